import type { Connection } from '#core/ports';
import type { ChatMessage } from '#core/protocol';
import type { SendNotes } from '#core/sendNotes';
import type { StoredMessage } from './changeFrames';

/**
 * The send path's extension points. A feature that takes part in sending a message (fields of its own in the frame,
 * a read before the seq, fields of the stored message, a write beside it, a notice after it) registers a SendHook
 * (sendFeatures.ts lists them); the send path (sendmessage.ts, sending.ts, sendAttempts.ts, sendTypes.ts,
 * composing.ts) runs whatever is registered and names none of them. For each send, phase after phase, each phase
 * over the hooks in the order they are listed:
 *
 * 1. `begin`: the frame, before the sender's connection is read: checks the hook's own fields and may refuse (throws
 *    an error frame's error, BadRequest or its own), may give the text to store instead; answers the hook's part in
 *    this send, or nothing when the send does not concern it. Each hook sees the text the one before it gave.
 * 2. `read`: beside the send tokens, before any seq is taken, all at once: a read the part keeps, given up at `stop`
 *    when a token is refused (a send refused for its rate costs its token writes, not the reads).
 * 3. `beforeSeq`: still before any seq: checks what was read and may refuse; answers fields the stored message adds.
 * 4. `beforePut`: each seq the send stores its message under, before the message is put there: a write the stored
 *    message counts on (a retry that puts the message runs it again).
 * 5. `afterStore`: the attempt that stored the message, beside its publish; advisory: it logs its own failure.
 * 6. `onPublish`: that attempt, once the message is published, before the sender's ack; advisory, as 5.
 *
 * A retry answered from its clientMsgId's record runs 1 to 4 (their refusals still stand) and neither 5 nor 6: its
 * first attempt did those. A read or write of 2 to 4 that DynamoDB throttles answers BUSY, as the send's own do.
 */
export interface SendHook {
  /** Its name in logs. */
  readonly name: string;
  begin(frame: SendFrame): SendPart | undefined | Promise<SendPart | undefined>;
}

/** What `begin` sees: the frame as the client sent it, and the sender's connection, read once for the whole send. */
interface SendFrame {
  body: Readonly<Record<string, unknown>>;
  /** The text to store, as the hooks before this one left it. */
  text: string;
  /** Rejects when the connection is gone; the send reads it once, whoever asks first. */
  connection(): Promise<Connection>;
}

/** What the phases after `begin` see of the send. */
export interface SendScope {
  connection: Connection;
  /** The text stored, as every `begin` left it. */
  text: string;
  now: Date;
  /** Values one hook leaves for a later phase of another, in this send. */
  notes: SendNotes;
  /**
   * `onPublish` only: the room's name as the send's seq take found it (null: the room has none), read from what the
   * take returns anyway; absent where the take read none (the lobby).
   */
  roomName?: string | null;
}

/** A hook's part in one send: the phases it takes part in (it keeps what it read and checked between them). */
export interface SendPart {
  /** The text to store in place of the one sent (a mask). */
  text?: string;
  read?(scope: SendScope, stop: AbortSignal): Promise<void>;
  beforeSeq?(
    scope: SendScope,
  ): Partial<StoredMessage> | undefined | Promise<Partial<StoredMessage> | undefined>;
  beforePut?(message: StoredMessage, expiresAt: number): Promise<void>;
  afterStore?(message: ChatMessage, scope: SendScope): Promise<void>;
  onPublish?(message: ChatMessage, scope: SendScope): Promise<void>;
}

/** Phase 1 over every hook, in order: their parts in this send and the text to store. */
export async function beginSend(
  hooks: readonly SendHook[],
  frame: SendFrame,
): Promise<{ parts: SendPart[]; text: string }> {
  const parts: SendPart[] = [];
  let { text } = frame;
  for (const hook of hooks) {
    const part = await hook.begin({ ...frame, text });
    if (!part) continue;
    if (part.text !== undefined) text = part.text;
    parts.push(part);
  }
  return { parts, text };
}

/** Phase 3 over every part, in order: the fields they add to the stored message. */
export async function fieldsBeforeSeq(
  parts: readonly SendPart[],
  scope: SendScope,
): Promise<Partial<StoredMessage>> {
  let fields: Partial<StoredMessage> = {};
  for (const part of parts) fields = { ...fields, ...(await part.beforeSeq?.(scope)) };
  return fields;
}

/** Phases 4 to 6, each over every part in order (`afterStore`'s at once, beside the publish). */
export async function beforePut(parts: readonly SendPart[], message: StoredMessage, expiresAt: number) {
  for (const part of parts) await part.beforePut?.(message, expiresAt);
}
export async function afterStore(parts: readonly SendPart[], message: ChatMessage, scope: SendScope) {
  await Promise.all(parts.map((part) => part.afterStore?.(message, scope)));
}
export async function onPublish(parts: readonly SendPart[], message: ChatMessage, scope: SendScope) {
  for (const part of parts) await part.onPublish?.(message, scope);
}
