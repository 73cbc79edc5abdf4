import { MessageDeleted, MessageNotFound } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { memberKey, senderOf } from '#core/memberKeys';
import type { Connection, Member } from '#core/ports';
import type { ReplyRef } from '#core/protocol';
import type { Attachment } from '#protocol';
import { orBusy } from './appending';
import type { StoredMessage } from './changeFrames';
import { mentionedIn } from './mentions';
import type { MessagePorts } from './ports';
import { checkRoot, signedInUser, type ThreadRoot, type ThreadStore } from './threads';

/**
 * A message's content before it takes a seq: the message it replies to, the members its `@name`s name, its
 * attachments as stored and the root of its thread, each checked, and the message as it is stored under a seq.
 */

/** What composing a message reads besides the sends' stores. */
export type ComposeDeps = Pick<MessagePorts, 'connections'> & {
  /**
   * The room's members a message's `@name`s are resolved among (mentions.ts), read page by page until `stop` is
   * aborted; absent: no mentions.
   */
  mentionables?: (roomId: string, stop?: AbortSignal) => Promise<Member[]>;
  /**
   * Refuses attachments not stored in the room as stated, else gives them with the versions read (attachments.ts
   * checkAttachments); absent: none allowed.
   */
  checkAttachments?: (roomId: string, attachments: Attachment[]) => Promise<Attachment[]>;
  /** Threads' roots, pointers and summaries (threads.ts); absent: a reply in a thread is refused. */
  threads?: ThreadStore;
};

/** What was read for a message beside its send token (sending.ts readFirst). */
export interface FirstReads {
  original?: { username: string; deleted: boolean };
  members?: Member[];
  attachments?: Attachment[];
  rootRead?: ThreadRoot;
}

/** What the sender stated of its message (sending.ts SendInput). */
interface ComposeInput {
  text: string;
  clientMsgId?: string;
  replyTo?: number;
  threadOf?: number;
  alsoToRoom?: boolean;
}

/** A message ready to take a seq: itself under any seq, whom it names, and the root of the thread it replies in. */
export interface Composed {
  messageAt: (seq: number, messageId: string, sentAt: string) => StoredMessage;
  mentioned: Connection[];
  root?: ThreadRoot;
  /** The author's key in the room (memberKey). */
  authorKey: string;
}

/**
 * Checks what was read and builds the message. The named connections are read as stored: their identities give each
 * named member's key in the room (its unread mention count in `myrooms`) and, signed in, its devices to tell. One
 * parallel read, only for a message that names someone.
 */
export async function composeMessage(
  deps: ComposeDeps,
  connection: Connection,
  input: ComposeInput,
  reads: FirstReads,
): Promise<Composed> {
  const { roomId } = connection;
  const root = input.threadOf === undefined ? undefined : checkRoot(reads.rootRead, input.threadOf);
  const authorUser = signedInUser(connection);
  const replyTo = input.replyTo === undefined ? undefined : replyRef(input.replyTo, reads.original);
  const named = reads.members ? mentionedIn(input.text, reads.members, connection.username) : undefined;
  const mentions = named && named.names.length > 0 ? named.names : undefined;
  const mentioned = mentions ? await namedConnections(deps, roomId, named?.members ?? []) : [];
  const mentionKeys = [...new Set(mentioned.map((c) => memberKey(roomId, senderOf(c))))];
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
    text: input.text,
    sentAt,
    ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
    ...(replyTo && { replyTo }),
    ...(mentions && { mentions, mentionKeys }),
    ...(attachments && { attachments }),
    ...(root && { threadOf: root.seq, ...(input.alsoToRoom && { alsoToRoom: true }) }),
    // Kept for the notices of replies in its thread (threads.ts), never shown.
    ...(authorUser && { authorUser }),
  });
  return { messageAt, mentioned, root, authorKey };
}

/** The thread store, or a reply in a thread refused where there is none. */
export function threadsOf(deps: ComposeDeps): ThreadStore {
  if (!deps.threads) throw new BadRequest('Replies in threads are not accepted here.');
  return deps.threads;
}

/** Attachments checked against the bucket, or refused where nothing can check them. */
export async function attachmentsChecked(
  deps: ComposeDeps,
  roomId: string,
  attachments: Attachment[],
): Promise<Attachment[]> {
  if (!deps.checkAttachments) throw new BadRequest('Attachments are not accepted here.');
  return deps.checkAttachments(roomId, attachments);
}

/** Named connections read at most for one message: a member's several tabs included. */
const NAMED_CONNECTIONS = 25;

/**
 * The named members' connections still in the room, read by id (a connection that left since is dropped): one that
 * shows the room, or follows it without showing it (its subscription, read only for those).
 */
async function namedConnections(
  deps: ComposeDeps,
  roomId: string,
  named: readonly Member[],
): Promise<Connection[]> {
  const items = await Promise.all(
    named.slice(0, NAMED_CONNECTIONS).map(async (m) => {
      const c = await orBusy(deps.connections.get(m.connectionId), roomId);
      if (c === undefined || c.roomId === roomId) return c;
      return (await orBusy(deps.connections.subscription(c.connectionId, roomId), roomId)) ? c : undefined;
    }),
  );
  return items.filter((c): c is Connection => c !== undefined);
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
