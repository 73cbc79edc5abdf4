import type { SearchHit } from '#protocol';
import type { Stem } from './stems';

/** Search's store interfaces (docs/DECISIONS.md, "Search"): the word index, and the messages it points at. */

/** A message the word index points at: `at` (epoch ms, its send time) orders rooms' candidates together. */
export interface SearchCandidate {
  roomId: string;
  seq: number;
  at: number;
}

/** A message as search lists it: live, not deleted, its text as it reads now (the protocol's hit, as sent). */
export type FoundMessage = SearchHit;

/**
 * The word index of search (search/searching.ts, docs/DECISIONS.md "Search"): an entry per word of a live message
 * but stop-words, written by the fan-out after its posts (search/indexing.ts), rewritten by an edit, removed by a
 * delete, expiring with the message. It only proposes
 * candidates: a search reads each message back and lists it only if its text now holds every word, so an entry a
 * failed write left behind never shows a deleted or edited-away word.
 */
export interface WordIndex {
  /** Entries for these words of message `seq` (sent at `at`, epoch ms), expiring at `ttl`. */
  add(roomId: string, seq: number, at: number, words: readonly string[], ttl: number): Promise<void>;
  /** Removes the entries of these words of message `seq`. */
  remove(roomId: string, seq: number, words: readonly string[]): Promise<void>;
  /** Puts (or rewrites) the entries of these stems of message `seq`, each holding its words (stems.ts). */
  putStems(roomId: string, seq: number, at: number, stems: readonly Stem[], ttl: number): Promise<void>;
  /** Removes the entries of these stems of message `seq`. */
  removeStems(roomId: string, seq: number, stems: readonly string[]): Promise<void>;
  /** The newest `limit` live entries of one word in one room, newest first. */
  candidates(roomId: string, word: string, limit: number, nowSeconds: number): Promise<SearchCandidate[]>;
  /**
   * The newest live entries of `prefix`'s stem in one room (`limit` of them read), newest first, those holding a
   * word that starts with `prefix`.
   */
  prefixCandidates(
    roomId: string,
    prefix: string,
    limit: number,
    nowSeconds: number,
  ): Promise<SearchCandidate[]>;
  /** The live, undeleted messages under these keys (at most 100), in no order. */
  messages(keys: readonly { roomId: string; seq: number }[], nowSeconds: number): Promise<FoundMessage[]>;
}
