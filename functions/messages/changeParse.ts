import { BadRequest } from '#core/errors';
import { parseMessageText, requireString } from '#core/protocol';
import { reactionOf } from '#protocol';
import type { ChangeRequest } from './changePlanning';

/** The seq of the message a change names: a whole number of 1 or more. */
export function parseTargetSeq(body: Record<string, unknown>): number {
  const { seq } = body;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1)
    throw new BadRequest('"seq" must be the seq of a message: a whole number of 1 or more.');
  return seq as number;
}

/** What an `editmessage`, `deletemessage` or `react` frame asks, checked as a message's text is. */
export function parseChangeRequest(action: string, body: Record<string, unknown>): ChangeRequest {
  if (action === 'editmessage')
    return { kind: 'edit', text: parseMessageText(requireString(body, 'message')) };
  if (action === 'deletemessage') return { kind: 'delete' };
  // The route table serves every change action the protocol names (changes.ts); one with no rule yet is refused.
  if (action !== 'react') throw new BadRequest(`"${action}" is not a change this server can make yet.`);
  const reaction = reactionOf(requireString(body, 'reaction'));
  if (reaction === undefined) throw new BadRequest('"reaction" must be a single emoji, such as "👍".');
  if (body.remove !== undefined && typeof body.remove !== 'boolean')
    throw new BadRequest('"remove" must be true or false.');
  return { kind: 'react', reaction, remove: body.remove === true };
}
