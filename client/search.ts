import type { AskOf } from '../protocol';
import {
  foldName,
  normalizeRoomId,
  PATTERNS,
  PEOPLE_LIMITS,
  SEARCH_LIMITS,
  searchPrefixes,
  searchWords,
  withoutSearchFilters,
} from '../protocol';
import { RoomcastError } from './errors';

/**
 * Finding people and messages (`client.rooms.findPeople`, `client.rooms.search`): each request checked as the server
 * checks it, so a query typed into a search box that the server would refuse is INVALID_ARGUMENT here, before any
 * request, and never costs the connection a strike.
 */

/** What a findPeople prefix may hold: characters of a name (docs/PROTOCOL.md, "Limits and errors"). */
const NAME_CHARS = new RegExp(`^(?:${PATTERNS.usernameChar})+$`, 'u');

/** The `findpeople` request for `prefix` (folded as the server folds names), or INVALID_ARGUMENT. */
export function peopleRequest(prefix: string, options: { limit?: number }): AskOf<'findpeople'> {
  const folded = typeof prefix === 'string' ? foldName(prefix) : '';
  const chars = [...folded].length;
  // Checked as the server checks it, so typing into a search box never costs the connection a strike.
  if (chars < 1 || chars > PEOPLE_LIMITS.prefixMaxChars || !NAME_CHARS.test(folded))
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `A name starts with 1–${PEOPLE_LIMITS.prefixMaxChars} letters, digits, spaces or ' - _ . @.`,
    );
  const { limit } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > PEOPLE_LIMITS.maxResults))
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `limit must be a whole number from 1 to ${PEOPLE_LIMITS.maxResults}.`,
    );
  return { action: 'findpeople', prefix: folded, ...(limit !== undefined && { limit }) };
}

/** The `search` request for `query`, or INVALID_ARGUMENT. */
export function searchRequest(
  query: string,
  options: { roomId?: string; limit?: number; before?: string },
): AskOf<'search'> {
  // Its words and prefixes; `from:` and `in:` only narrow them, and the server checks their values.
  const terms = typeof query === 'string' ? withoutSearchFilters(query) : '';
  // A prefix too short (`me*`) or a stray `*`: the server's own rule and sentence (protocol searchPrefixes), first,
  // as the server checks it before the words.
  const { problem } = searchPrefixes(terms);
  if (problem !== undefined && query.length <= SEARCH_LIMITS.queryMaxChars)
    throw new RoomcastError('INVALID_ARGUMENT', problem);
  const words = searchWords(terms);
  if (typeof query !== 'string' || query.length > SEARCH_LIMITS.queryMaxChars || words.length === 0)
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `Search for 1–${SEARCH_LIMITS.queryMaxWords} words of ${SEARCH_LIMITS.wordMinChars} or more letters or digits, in at most ${SEARCH_LIMITS.queryMaxChars} characters.`,
    );
  if (words.length > SEARCH_LIMITS.queryMaxWords)
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `Search for at most ${SEARCH_LIMITS.queryMaxWords} words at once.`,
    );
  const { roomId, limit, before } = options;
  if (before !== undefined && (typeof before !== 'string' || before === ''))
    throw new RoomcastError('INVALID_ARGUMENT', 'before must be the next of the page before.');
  if (roomId !== undefined && normalizeRoomId(roomId) === undefined)
    throw new RoomcastError('INVALID_ARGUMENT', 'roomId must be a room code.');
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.maxResults))
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `limit must be a whole number from 1 to ${SEARCH_LIMITS.maxResults}.`,
    );
  return {
    action: 'search',
    query,
    ...(roomId !== undefined && { roomId: normalizeRoomId(roomId) }),
    ...(limit !== undefined && { limit }),
    ...(before !== undefined && { before }),
  };
}
