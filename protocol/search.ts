/**
 * Search: a member finds messages by their words in the rooms its connection is in (one room, or all of them), newest
 * first, within the retention. docs/PROTOCOL.md (the `search` row of "Client → server" and of "Limits and errors") explains it; protocol/asyncapi.yaml describes the same
 * frames. `searchWords` is the one rule of what a word is: the server indexes and matches by it, and a client
 * highlights by it, so what is highlighted is what matched.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

export const SEARCH_LIMITS = {
  /** A query is 1–100 characters holding at least one word. */
  queryMaxChars: 100,
  /** Words of a query: a message matches when it holds every one. */
  queryMaxWords: 5,
  /** Messages one answer lists at most (and the default `limit`). */
  maxResults: 20,
  /** A word is 2–40 letters or digits; a longer run is cut to its first 40. */
  wordMinChars: 2,
  wordMaxChars: 40,
  /** A message's first this many distinct words are indexed: a word past them in a very long text is not found. */
  wordsPerMessage: 100,
  /** Each query word's newest index entries read per room: the candidates a match is chosen among. */
  candidatesPerWord: 1000,
  /**
   * A prefix (`meet*`) is at least this many letters or digits: the index keeps each word under its first this many
   * as well (docs/DECISIONS.md, "Search by prefix, sender and room"), and a shorter one would match too much.
   */
  prefixMinChars: 3,
} as const;

export const SEARCH_ACTIONS = ['search'] as const;
export type SearchAction = (typeof SEARCH_ACTIONS)[number];

/**
 * The messages of the caller's rooms holding every word of `query` (whole words, any case and accents), newest
 * first, at most `limit` (1–20, default 20). `roomId`: that room only (one you are in: NOT_SUBSCRIBED otherwise);
 * absent: every room this connection is in.
 *
 * The query's syntax (docs/PROTOCOL.md, "Search"), its terms separated by spaces:
 * - `word`: a message holds the whole word;
 * - `meet*`: a message holds a word starting with `meet` (at least `prefixMinChars` letters or digits before `*`);
 * - `from:alice` (or `from:"alice smith"`): only messages sent under that name (any case and accents);
 * - `in:general` (or `in:"team chat"`, or `in:5T9MLRQ3`): only the rooms searched with that name or code.
 * A query needs at least one word or prefix; `from:` and `in:` narrow it. BAD_REQUEST, with a sentence saying what
 * is wrong: an empty `from:` or `in:`, either given twice, an `in:` that names none of the rooms searched, a prefix
 * too short.
 */
export interface SearchRequest {
  action: 'search';
  query: string;
  roomId?: string;
  limit?: number;
  /** The `next` of the page before: the following page, older messages (the same query and `roomId`). */
  before?: string;
  requestId?: string;
}

/** One message found: where, who, when, and its text now (the whole text; highlight its `searchWords`). */
export interface SearchHit {
  roomId: string;
  seq: number;
  username: string;
  /**
   * The author's key in the room, as the message carries it (`authorKey`): the hit shows its author's profile as the
   * message does. Absent for a message stored without one.
   */
  authorKey?: string;
  text: string;
  sentAt: string;
  /** A reply in a thread: its root's seq. Show it in that thread (`history` with `threadOf`), not the room's flow. */
  threadOf?: number;
}

export interface FoundFrame {
  type: 'found';
  /** The query's words as matched (searchWords of `query`). */
  words: string[];
  /** The query's prefixes as matched (folded, without `*`): highlight the words starting with them. */
  prefixes?: string[];
  /** The room searched; absent: every room of the connection. */
  roomId?: string;
  /** Newest first. */
  results: SearchHit[];
  /** More messages match than are listed: ask again with `before` set to `next`, or add a word to narrow it. */
  more?: true;
  /** The cursor of the next page (with `more`): send it back as `before`. */
  next?: string;
  requestId?: string;
}

export const SEARCH_FRAME_TYPES = ['found'] as const;

/** The frame type that answers each action (errors aside). */
export const SEARCH_REPLY_TYPE = { search: 'found' } as const;

/** A query's `from:` and `in:` terms: a quoted value (spaces allowed), or one up to the next space; at a term's start. */
const SEARCH_FILTER = /(^|\s)(from|in):(?:"([^"]*)"?|(\S*))/giu;

/**
 * The query without its `from:` and `in:` terms (its words and prefixes), each term handed to `found`: its key in
 * lower case, its value trimmed (empty when none was given). The server checks the terms; a client counts the words.
 */
export function withoutSearchFilters(
  query: string,
  found?: (key: 'from' | 'in', value: string) => void,
): string {
  return query.replace(SEARCH_FILTER, (_all, space: string, name: string, quoted?: string, bare?: string) => {
    found?.(name.toLowerCase() as 'from' | 'in', (quoted ?? bare ?? '').trim());
    return space;
  });
}

/** A prefix: a run of letters or digits (marks kept with their letter) ended by `*`. */
const PREFIX = /[\p{L}\p{N}\p{M}]+\*/gu;
/** A `*` left after the prefixes: one with nothing before it, or after a mark or symbol. */
const STRAY_STAR = /\*/;

/**
 * The prefixes of a query without its `from:` and `in:` terms (`meet*`: folded, cut to `wordMaxChars`, `*` dropped)
 * and the query without them; `problem`: why the server refuses them, as its BAD_REQUEST says it (a prefix of fewer
 * than `prefixMinChars` letters or digits, a `*` that ends no prefix). The server's rule and a client's check before
 * sending are this one function, so a search box refuses what the server would, in the same words.
 */
export function searchPrefixes(query: string): { rest: string; prefixes: string[]; problem?: string } {
  const prefixes = new Set<string>();
  let problem: string | undefined;
  const rest = query.replace(PREFIX, (term) => {
    const folded = foldText(term.slice(0, -1)).slice(0, SEARCH_LIMITS.wordMaxChars);
    if ([...folded].length < SEARCH_LIMITS.prefixMinChars)
      problem ??= `"${term}" is too short: a prefix is ${SEARCH_LIMITS.prefixMinChars} or more letters or digits before "*".`;
    prefixes.add(folded);
    return ' ';
  });
  if (problem === undefined && STRAY_STAR.test(rest))
    problem = `"*" ends a prefix: write it right after ${SEARCH_LIMITS.prefixMinChars} or more letters, as meet*.`;
  return { rest, prefixes: [...prefixes], ...(problem !== undefined && { problem }) };
}

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}/gu;

/** A text folded for matching: compatibility forms and accents gone (NFKD, marks removed), lower case. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/**
 * The distinct words of a text in their order, folded (foldText): runs of letters and digits of at least
 * `wordMinChars`, each cut to `wordMaxChars`. "Café-Bar 2024!" → ["cafe", "bar", "2024"].
 */
export function searchWords(text: string): string[] {
  const words = new Set<string>();
  for (const [run] of foldText(text).matchAll(WORD)) {
    if (run.length >= SEARCH_LIMITS.wordMinChars) words.add(run.slice(0, SEARCH_LIMITS.wordMaxChars));
  }
  return [...words];
}

/**
 * Common English words the index leaves out (docs/DECISIONS.md, "Search indexed by the fan-out"): each is in most
 * messages, so its entries would cost a write per message and match too much to narrow a search. Folded as
 * `searchWords` folds (lower case, no accents); a word of one letter is no word already.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'am an and are as at be been but by can do for from had has have he her him his if in into is it its me my of ' +
    'on or our she so that the their them then there these they this to too us was we were what when which who will ' +
    'with you your'
  ).split(' '),
);

/**
 * The words of a text the index holds and a search looks up: `searchWords` without STOP_WORDS, the first
 * `wordsPerMessage` of them (a word past them in a very long text is not found). A query of stop-words only has none,
 * and is refused with a sentence saying so.
 */
export function indexWords(text: string): string[] {
  return searchWords(text)
    .filter((word) => !STOP_WORDS.has(word))
    .slice(0, SEARCH_LIMITS.wordsPerMessage);
}

/**
 * Where a text's words that are among `words`, or start with one of `prefixes`, stand in the text itself, as [start, end) offsets of `text`, for
 * highlighting. Each character is folded on its own, so the offsets are those of the original text.
 */
export function matchSpans(
  text: string,
  words: readonly string[],
  prefixes: readonly string[] = [],
): Array<[number, number]> {
  const wanted = new Set(words);
  const isWanted = (word: string) => wanted.has(word) || prefixes.some((prefix) => word.startsWith(prefix));
  const spans: Array<[number, number]> = [];
  const chars = [...text];
  let offset = 0;
  let run = '';
  let start = 0;
  const close = (end: number) => {
    if (run.length >= SEARCH_LIMITS.wordMinChars && isWanted(run.slice(0, SEARCH_LIMITS.wordMaxChars)))
      spans.push([start, end]);
    run = '';
  };
  for (const char of chars) {
    const folded = foldText(char);
    const inWord = folded.length > 0 && /^[\p{L}\p{N}]+$/u.test(folded);
    if (inWord) {
      if (run === '') start = offset;
      run += folded;
    } else if (/^\p{M}+$/u.test(char) && run !== '') {
      // A combining mark belongs to the word it follows.
    } else if (run !== '') close(offset);
    offset += char.length;
  }
  if (run !== '') close(offset);
  return spans;
}
