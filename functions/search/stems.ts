import { SEARCH_LIMITS } from '#protocol';

/**
 * A prefix search's index (docs/DECISIONS.md, "Search by prefix, sender and room"): beside its word entries, a
 * message has one entry per stem, the first `prefixMinChars` letters of its indexed words of that length or more,
 * holding those words; a query `meet*` reads the stem `mee`'s entries and keeps those holding a word starting with
 * `meet`.
 */
export interface Stem {
  stem: string;
  /** The message's indexed words under this stem. */
  words: readonly string[];
}

/** The first `prefixMinChars` characters of a folded word or prefix (by code point: a letter is never cut in two). */
export const stemOf = (word: string) => [...word].slice(0, SEARCH_LIMITS.prefixMinChars).join('');

/** Whether a folded prefix is long enough to search by (a word shorter than it has no stem entry). */
const isLongEnough = (word: string) => [...word].length >= SEARCH_LIMITS.prefixMinChars;

/** The stems of a message's indexed words (protocol indexWords), each with its words in their order. */
export function stemsOf(words: readonly string[]): Stem[] {
  const byStem = new Map<string, string[]>();
  for (const word of words) {
    if (!isLongEnough(word)) continue;
    const stem = stemOf(word);
    byStem.set(stem, [...(byStem.get(stem) ?? []), word]);
  }
  return [...byStem].map(([stem, words]) => ({ stem, words }));
}
