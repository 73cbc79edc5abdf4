import { ChatError } from '#core/errors';

/**
 * Why a change to a message is refused. None is a strike (guard.ts): a member racing a delete or an expiry, or a
 * client showing an edit button a moment too long, is not abusing anything.
 */
function refusal(name: string, code: ChatError['code'], status: number) {
  return class extends ChatError {
    override readonly name = name;
    override readonly strike = false;

    constructor(message: string) {
      super(code, status, message);
    }
  };
}

export class MessageNotFound extends refusal('MessageNotFound', 'MESSAGE_NOT_FOUND', 404) {}
export class MessageDeleted extends refusal('MessageDeleted', 'MESSAGE_DELETED', 410) {}
export class NotAuthor extends refusal('NotAuthor', 'NOT_AUTHOR', 403) {}
export class EditWindowPassed extends refusal('EditWindowPassed', 'EDIT_WINDOW_PASSED', 403) {}
/** A message at one of the changes' limits (CHANGE_LIMITS). */
export class ChangeLimit extends refusal('ChangeLimit', 'BAD_REQUEST', 409) {}
