import { MessageDeleted, MessageNotFound } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { memberKey, senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import type { ReplyRef } from '#core/protocol';
import type { Attachment } from '#protocol';
import type { StoredMessage } from './changeFrames';
import type { MessagePorts } from './ports';
import { fieldsBeforeSeq, type SendPart, type SendScope } from './sendHooks';

/**
 * A message's content before it takes a seq: the message it replies to and its attachments, each checked, what the
 * send's hooks check and add (sendHooks.ts `beforeSeq`), and the message as it is stored under a seq.
 */

/** What composing a message reads besides the sends' stores. */
export type ComposeDeps = Pick<MessagePorts, 'connections'> & {
  /**
   * Refuses attachments not stored in the room as stated, else gives them with the versions read (attachments.ts
   * checkAttachments); absent: none allowed.
   */
  checkAttachments?: (roomId: string, attachments: Attachment[]) => Promise<Attachment[]>;
};

/** What was read for a message beside its send token (sending.ts readFirst); the hooks' parts keep their own. */
export interface FirstReads {
  original?: { username: string; deleted: boolean };
  attachments?: Attachment[];
}

/** What the sender stated of its message (sendTypes.ts SendInput). */
interface ComposeInput {
  clientMsgId?: string;
  replyTo?: number;
}

/** A message ready to take a seq: itself under any seq. */
export interface Composed {
  messageAt: (seq: number, messageId: string, sentAt: string) => StoredMessage;
  /** The author's key in the room (memberKey). */
  authorKey: string;
}

/**
 * Checks what was read and builds the message: the hooks' `beforeSeq` first, in their order (a refusal of theirs
 * comes before the reply's), then the reply's check. The text is the scope's, as the hooks' `begin` left it.
 */
export async function composeMessage(
  scope: SendScope,
  parts: readonly SendPart[],
  input: ComposeInput,
  reads: FirstReads,
): Promise<Composed> {
  const { connection, text } = scope;
  const { roomId } = connection;
  const added = await fieldsBeforeSeq(parts, scope);
  const authorUser = signedInUser(connection);
  const replyTo = input.replyTo === undefined ? undefined : replyRef(input.replyTo, reads.original);
  const authorKey = memberKey(roomId, senderOf(connection));
  const { attachments } = reads;
  const messageAt = (seq: number, messageId: string, sentAt: string): StoredMessage => ({
    // The author's key goes with the message, so its author (and only it) can edit it later (changes/); its
    // identity, never shown, so a member can block or report the person who wrote it (functions/safety/).
    authorKey,
    authorId: senderOf(connection),
    roomId,
    seq,
    messageId,
    username: connection.username,
    text,
    sentAt,
    ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
    ...(replyTo && { replyTo }),
    ...(attachments && { attachments }),
    ...added,
    // The author's signed-in user id, never shown: its profile beside its messages (core/profiles.ts), and the
    // notices of what answers it.
    ...(authorUser && { authorUser }),
  });
  return { messageAt, authorKey };
}

/** The signed-in user id of a connection, if it has one. */
const signedInUser = (connection: Connection) =>
  connection.userId?.startsWith('user:') ? connection.userId : undefined;

/** Attachments checked against the bucket, or refused where nothing can check them. */
export async function attachmentsChecked(
  deps: ComposeDeps,
  roomId: string,
  attachments: Attachment[],
): Promise<Attachment[]> {
  if (!deps.checkAttachments) throw new BadRequest('Attachments are not accepted here.');
  return deps.checkAttachments(roomId, attachments);
}

/**
 * The reference a reply stores: the original's seq and its author's name then. Only a live message of the same room
 * can be replied to; a retry of a recorded send is answered from its record before this matters.
 */
function replyRef(seq: number, original: { username: string; deleted: boolean } | undefined): ReplyRef {
  if (!original) throw new MessageNotFound(`There is no message ${seq} in this room to reply to.`);
  if (original.deleted) throw new MessageDeleted(`Message ${seq} was deleted: it can't be replied to.`);
  return { seq, username: original.username };
}
