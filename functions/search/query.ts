import { BadRequest } from '#core/errors';
import {
  foldText,
  indexWords,
  normalizeRoomId,
  SEARCH_LIMITS,
  searchPrefixes,
  searchWords,
  withoutSearchFilters,
} from '#protocol';
import type { SearchCandidate } from './ports';

/**
 * A search's query as the server reads it (protocol/search.ts SearchRequest, docs/PROTOCOL.md "Search"): whole words,
 * prefixes (`meet*`), a sender (`from:`) and a room (`in:`). Every refusal is a BAD_REQUEST whose sentence says what
 * is wrong and how to write it.
 */
export interface SearchQuery {
  /** Whole words a message holds (indexWords: folded, no stop-words). */
  words: string[];
  /** Folded prefixes (no `*`): a message holds a word starting with each. */
  prefixes: string[];
  /** `from:`: the sender's name, folded; absent: anyone. */
  from?: string;
  /** `in:`: a room's name or code, as typed; absent: every room searched. */
  in?: string;
  /** One room; absent: every room of the connection. */
  roomId?: string;
  limit: number;
  /** The page starts after this position (the `next` of the page before). */
  before?: SearchCandidate;
}

/** A page's cursor: where its last message stands in the order (`at`, `seq`, room). */
const CURSOR = /^(\d{1,15}):(\d{1,15}):([A-Za-z0-9]{1,32})$/;
export const cursorOf = (c: SearchCandidate) => `${c.at}:${c.seq}:${c.roomId}`;

/** The filters of a query, and the query without them. */
function filtersOf(query: string): { rest: string; from?: string; in?: string } {
  const found: { from?: string; in?: string } = {};
  const rest = withoutSearchFilters(query, (key, value) => {
    if (value === '')
      throw new BadRequest(
        key === 'from'
          ? '"from:" needs a name after it: from:alice, or from:"alice smith".'
          : '"in:" needs a room after it: its name or code, in:general or in:"team chat".',
      );
    if (found[key] !== undefined) throw new BadRequest(`"${key}:" may be given once in a query.`);
    found[key] = value;
  });
  return { rest, ...found };
}

/** The prefixes of a query (protocol searchPrefixes: a client checks by the same rule), and the query without them. */
function prefixesOf(query: string): { rest: string; prefixes: string[] } {
  const { rest, prefixes, problem } = searchPrefixes(query);
  if (problem !== undefined) throw new BadRequest(problem);
  return { rest, prefixes };
}

export function parseSearch(body: Record<string, unknown>): SearchQuery {
  const { query, roomId, limit, before } = body;
  if (typeof query !== 'string' || query.trim().length === 0)
    throw new BadRequest('"query" is required: the words to search for.');
  if (query.length > SEARCH_LIMITS.queryMaxChars)
    throw new BadRequest(`"query" must be at most ${SEARCH_LIMITS.queryMaxChars} characters.`);
  const filters = filtersOf(query);
  const { rest, prefixes } = prefixesOf(filters.rest);
  if (searchWords(rest).length === 0 && prefixes.length === 0)
    throw new BadRequest(
      `"query" holds no word to search for: a word is ${SEARCH_LIMITS.wordMinChars} or more letters or digits` +
        ` (from: and in: only narrow a search of words).`,
    );
  // Stop-words are not indexed (protocol STOP_WORDS): a query of them alone could only ever find nothing.
  const words = indexWords(rest).filter((word) => !prefixes.includes(word));
  if (words.length === 0 && prefixes.length === 0)
    throw new BadRequest(
      '"query" holds only common words ("the", "and", "you"...), which search leaves out: add a less common word.',
    );
  if (words.length + prefixes.length > SEARCH_LIMITS.queryMaxWords)
    throw new BadRequest(`Search for at most ${SEARCH_LIMITS.queryMaxWords} words and prefixes at once.`);
  let room: string | undefined;
  if (roomId !== undefined) {
    room = typeof roomId === 'string' ? normalizeRoomId(roomId) : undefined;
    if (room === undefined) throw new BadRequest('"roomId" must be a room code.');
  }
  if (
    limit !== undefined &&
    (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > SEARCH_LIMITS.maxResults)
  )
    throw new BadRequest(`"limit" must be a whole number from 1 to ${SEARCH_LIMITS.maxResults}.`);
  let after: SearchCandidate | undefined;
  if (before !== undefined) {
    const [, at, seq, code] = (typeof before === 'string' && CURSOR.exec(before)) || [];
    const cursorRoom = code === undefined ? undefined : normalizeRoomId(code);
    if (at === undefined || seq === undefined || cursorRoom === undefined)
      throw new BadRequest('"before" must be the "next" of the page before.');
    after = { at: Number(at), seq: Number(seq), roomId: cursorRoom };
  }
  return {
    words,
    prefixes,
    ...(filters.from !== undefined && { from: foldText(filters.from) }),
    ...(filters.in !== undefined && { in: filters.in }),
    ...(room && { roomId: room }),
    limit: (limit as number | undefined) ?? SEARCH_LIMITS.maxResults,
    ...(after && { before: after }),
  };
}
