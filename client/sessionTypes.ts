import type { RoomEventFrame } from '../protocol';
import type { Requester } from './requests';
import type { SessionEvents } from './types';

/**
 * The room session's contract (client/session.ts and its parts: gapFill.ts, memberList.ts, roomOwner.ts): what it is
 * given, how it is set up, and what it is doing, one value at a time.
 */

/**
 * What the session is doing besides taking messages, as one value:
 * - `steady`: in its room, handing messages over in seq order;
 * - `joining`: a join or create waits for its `joined` reply; messages of other rooms that arrive meanwhile are
 *   kept (the room being created has no known code yet) and delivered if the reply names their room;
 * - `filling`: fetching history to fill a gap in the seqs.
 */
export type SessionActivity =
  | { kind: 'steady' }
  | { kind: 'joining'; roomId: string | undefined; early: RoomEventFrame[] }
  | { kind: 'filling' };

export interface SessionHooks {
  /** Sends a request and resolves with its answer (client/requests.ts). */
  request: Requester;
  emit<K extends keyof SessionEvents>(event: K, value: SessionEvents[K]): void;
}

export interface SessionConfig {
  /** Messages fetched when entering a room with no history yet (the lobby on connect). */
  initialHistory: number;
  /** Every message handed over as it arrives, no order, no member list (client option `lean`). */
  lean: boolean;
}
