import type { FoundFrame, JoinedFrame, Person, SeenByFrame } from '../protocol';
import { isUserId } from '../protocol';
import { Emitter } from './emitter';
import { RoomcastError } from './errors';
import type { DirectTarget, MemberEvents, MemberHooks } from './memberHooks';
import { peopleRequest, searchRequest } from './search';

/**
 * A member's asks about people and messages across its rooms (client.rooms, client/members.ts MemberRooms builds on
 * them): who has read what in the room on screen, people by name, search, and the direct-message room with one of
 * them. Each answers the server's reply as it is and keeps nothing: an argument the server would refuse is refused
 * here first (INVALID_ARGUMENT), with no request.
 */
export class PeopleAsks extends Emitter<MemberEvents> {
  constructor(protected readonly hooks: MemberHooks) {
    super();
  }

  protected need<F>(hook: F | undefined): F {
    if (hook === undefined) throw new RoomcastError('INVALID_ARGUMENT', 'This client cannot do that.');
    return hook;
  }

  /** Each member of the current room with its read position (rooms up to the deployment's size for it). */
  seenBy = async (): Promise<SeenByFrame> => await this.hooks.request({ action: 'seenby' });

  /**
   * Signed-in people this user shares a room with whose name starts with `prefix` (any case), sorted by name, at
   * most `limit` (1–20, default 20); open a DM with one by `openDirect({ userId })`. A prefix that cannot start a
   * name (empty, over 32 characters, a character no name has) is refused here, before any request (INVALID_ARGUMENT);
   * without sign-in the server refuses it
   * FORBIDDEN with a sentence saying why.
   */
  async findPeople(prefix: string, options: { limit?: number } = {}): Promise<Person[]> {
    return (await this.hooks.request(peopleRequest(prefix, options))).people;
  }

  /**
   * The messages of this connection's rooms (or of `roomId`, one of them) holding every word of `query` (whole words,
   * any case or accent), newest first, at most `limit` (1–20, default 20); `more` when more match. A query the server
   * would refuse (no word of 2+ letters or digits, a prefix too short, over 100 characters or 5 words) is
   * INVALID_ARGUMENT here, with no request (no strike); a room this connection is not in is refused NOT_SUBSCRIBED
   * by the server. Highlight a hit's words with `matchSpans(text, found.words)`.
   */
  async search(
    query: string,
    options: { roomId?: string; limit?: number; before?: string } = {},
  ): Promise<FoundFrame> {
    return this.hooks.request(searchRequest(query, options));
  }

  /**
   * Enters the direct-message room with another signed-in user, named by `userId` (from `seenBy` or `myRooms`) or
   * by `username` as the current room's member list shows it, or by a `userId` `findPeople` found (anyone this user
   * shares a room with, wherever it is now). Refused FORBIDDEN without sign-in.
   */
  async openDirect(target: DirectTarget): Promise<JoinedFrame> {
    if ('userId' in target && !isUserId(target.userId))
      throw new RoomcastError('INVALID_ARGUMENT', 'userId must be an id seenBy() or myRooms() gave.');
    const joined = await this.hooks.join({ action: 'opendm', ...target });
    this.hooks.entered(joined);
    return joined;
  }
}
