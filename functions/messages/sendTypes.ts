import type { PersonGate } from '#core/limits/personRate';
import type { Connection } from '#core/ports';
import type { ChatMessage } from '#core/protocol';
import type { Attachment } from '#protocol';
import type { Taken } from './appending';
import type { ComposeDeps } from './composing';
import type { MessagePorts, SendRecord, SendSettings } from './ports';
import type { SendHook, SendPart, SendScope } from './sendHooks';

/**
 * What a send is given and carries through sending.ts and sendAttempts.ts: its ports, what the sender stated, one
 * attempt (who, where, its id) and what the attempt stored. One file for both, so neither imports the other back.
 */

/** Exported for tests: the port the send tests build from real adapters. */
export type SendDeps = Pick<MessagePorts, 'connections' | 'sends' | 'events' | 'now'> &
  SendSettings &
  ComposeDeps & {
    /** The sender's budget across its connections (personRate.ts); absent: only the connection's own. */
    person?: PersonGate;

    /**
     * Lets a send into a direct-message room through or throws: refused where either of the pair blocks the other
     * (functions/safety/screening.ts); absent: not checked.
     */
    admitDirect?: (sender: Connection) => Promise<void>;

    /**
     * Slow mode's turn (core/moderation.ts): takes the turn `key` at `nowMs` if its last was `intervalMs` ago or more,
     * answering 0, else the ms left to wait (one conditional write, dynamoGuard.ts takeTurnOrWait); absent: no slow
     * mode.
     */
    slowTurn?: (key: string, nowMs: number, intervalMs: number) => Promise<number>;

    /** The features that take part in a send, in order (sendHooks.ts, listed in sendFeatures.ts); absent: none. */
    hooks?: readonly SendHook[];
  };

export interface SendInput {
  connectionId: string;
  text: string;
  clientMsgId?: string;
  /** Aborted when the sender was already answered Busy: then nothing is stored (its retry stores it). */
  signal?: AbortSignal;
  /** Lets a post to the lobby through or throws (the lobby policy, lobby.ts); absent = the lobby is open to all. */
  admitLobbyPost?: () => Promise<void>;
  /** The seq of the message in the same room this one replies to (parseReplyTo). */
  replyTo?: number;
  /** Uploaded images of the room (parseAttachments), each read back before the message is stored. */
  attachments?: Attachment[];
  /** The sender's address: without sign-in, its source is whose budget the send takes from (limitOwner). */
  sourceIp?: string;
  /** The frame as the client sent it: the hooks read their own fields of it (sendHooks.ts `begin`). */
  body?: Readonly<Record<string, unknown>>;
}

/** One send: who, where, and the attempt's id (the attempt its record names). */
export interface Send {
  connection: Connection;
  input: SendInput;
  /** The hooks' parts in this send, and what they see of it. */
  parts: readonly SendPart[];
  scope: SendScope;
  sendKey?: string;
  attempt: string;
  /** A take of this send that woke the room, while its event is not stored yet. */
  owesWake?: Taken;
}

/** What store gives sendMessage. */
export interface Stored {
  message: ChatMessage;
  sentBefore?: SendRecord;
  /** The take that stored it (absent: answered from its record, a retry). */
  taken?: Taken;
}
