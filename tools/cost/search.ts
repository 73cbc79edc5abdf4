// What search costs (docs/DECISIONS.md, "Search"): its index per million messages, and per thousand searches.
// - Indexing: each distinct word of a message but stop-words (at most SEARCH_LIMITS.wordsPerMessage) is one item of
//   the Words table (~60 bytes: one write unit), put by the fan-out's IndexWords step after a turn's posts (one
//   Deliver invocation per turn, shared by the turn's messages: not counted here), kept MessageRetentionDays
//   (DynamoDB bills 100 bytes of overhead per item stored). Beside its words, a message has one stem item per
//   distinct first 3 letters of its words, for prefix search (docs/DECISIONS.md, "Search by prefix, sender and room"):
//   a typical message's 7 words have 7 stems (tools/bench/typicalText.ts), so a stem item per word.
// - A search: the frame and its reply, an invocation, its log lines, the frame count's and the person's bucket writes,
//   the caller's rooms (a GetItem of one room's subscription, a Query of all of them), per room and word one Query
//   of up to candidatesPerWord entries (eventually consistent), and one BatchGetItem of the candidates read back.

import { SEARCH_LIMITS } from '#protocol';
import { gbSeconds, pageReadUnits } from './metering';
import { PRICES, type PriceTable } from './prices';
import type { Assumptions } from './types';

/** Bytes of one Words item: `wordKey` (room code and word), `seq`, `at`, `ttl`. */
export const WORD_ITEM_BYTES = 60;
/** Bytes of one stem item: a word item's and `w`, the message's words under the stem (one or two, ~10 B each). */
const STEM_ITEM_BYTES = 75;
/** Stem items per indexed word: distinct first-3-letters are about as many as the words (7 of 7 in the typical one). */
const STEMS_PER_WORD = 1;
/** DynamoDB's per-item storage overhead (its storage pricing counts it). */
const ITEM_OVERHEAD_BYTES = 100;
/** Characters per word in running text, the space included (English averages about five letters a word). */
const CHARS_PER_WORD = 6;
/** Of a chat message's words, the share that are distinct. */
const DISTINCT_SHARE = 0.8;
/**
 * Of its distinct words, the share that are no stop-words (protocol STOP_WORDS): 7 of 12 in docs/DECISIONS.md's
 * typical message ("Search indexed by the fan-out").
 */
const INDEXED_SHARE = 0.6;
/**
 * Read units of one word's Query in one room: its SEARCH_LIMITS.candidatesPerWord newest entries of WORD_ITEM_BYTES,
 * eventually consistent (60 KB: 15 units of 4 KB, halved). The AWS model prices a search with this figure too.
 */
export const WORD_QUERY_READ_UNITS = pageReadUnits(SEARCH_LIMITS.candidatesPerWord * WORD_ITEM_BYTES);
/** Candidates read back per search (searching.ts READ_BACK): each message item ≤ 4 KB, 0.5 RRU eventually consistent. */
const READ_BACK = 40;
/** Billed ms of one search: a few DynamoDB round trips, the Queries side by side. */
export const SEARCH_MS = 60;

const first = (prices: PriceTable, id: keyof PriceTable) => prices[id].tiers[0]?.usd ?? 0;

/** Distinct words indexed for a text of `messageBytes`. */
export const wordsIndexed = (messageBytes: number) =>
  Math.min(
    SEARCH_LIMITS.wordsPerMessage,
    Math.round((messageBytes / CHARS_PER_WORD) * DISTINCT_SHARE * INDEXED_SHARE),
  );

export interface SearchIndexCost {
  words: number;
  /** Stem items (prefix search) beside the word items. */
  stems: number;
  /** USD per million messages indexed: the writes, and the items stored for the retention. */
  writeUsdPerMillion: number;
  storageUsdPerMillion: number;
}

export function searchIndexCost(
  a: Assumptions,
  prices: PriceTable = PRICES,
  messageBytes = 200,
): SearchIndexCost {
  const words = wordsIndexed(messageBytes);
  const stems = Math.round(words * STEMS_PER_WORD);
  const bytes =
    words * (WORD_ITEM_BYTES + ITEM_OVERHEAD_BYTES) + stems * (STEM_ITEM_BYTES + ITEM_OVERHEAD_BYTES);
  const gbMonths = (1e6 * bytes * (a.messageRetentionDays / 30)) / 1e9;
  return {
    words,
    stems,
    // Every item < 1 KB: one write unit each.
    writeUsdPerMillion: 1e6 * (words + stems) * first(prices, 'dynamoWriteRequestUnits'),
    storageUsdPerMillion: gbMonths * first(prices, 'dynamoStorageGbMonth'),
  };
}

export interface SearchCostRow {
  name: string;
  rooms: number;
  words: number;
  /** Entries each word's Query reads per room. */
  entriesPerWord: number;
  readUnits: number;
  usdPerThousand: number;
}

/** USD per thousand searches: one room or ten, one word or three, each word in 1,000 entries (the most read). */
export function searchCosts(a: Assumptions, prices: PriceTable = PRICES): SearchCostRow[] {
  const cases = [
    { name: 'one room, one word', rooms: 1, words: 1 },
    { name: 'one room, three words', rooms: 1, words: 3 },
    { name: 'ten rooms, one word', rooms: 10, words: 1 },
    { name: 'ten rooms, three words', rooms: 10, words: 3 },
  ];
  const entries = SEARCH_LIMITS.candidatesPerWord;
  return cases.map(({ name, rooms, words }) => {
    const queries = rooms * words * WORD_QUERY_READ_UNITS;
    const readBack = READ_BACK * 0.5;
    // One room: its subscription (GetItem, strongly consistent); every room: a Query of the caller's subscriptions.
    const roomsRead = rooms === 1 ? 1 : pageReadUnits(rooms * 150, false);
    const readUnits = queries + readBack + roomsRead;
    const usd =
      2 * first(prices, 'apigwWsMessages') +
      first(prices, 'lambdaRequests') +
      gbSeconds(SEARCH_MS, a.sendMessageMemoryMb) * first(prices, 'lambdaArmGbSeconds') +
      (a.logBytesPerInvocation / 1e9) * first(prices, 'cloudwatchLogsIngestedGb') +
      // The frame count and the person's search bucket.
      2 * first(prices, 'dynamoWriteRequestUnits') +
      readUnits * first(prices, 'dynamoReadRequestUnits');
    return { name, rooms, words, entriesPerWord: entries, readUnits, usdPerThousand: usd * 1000 };
  });
}

export function renderSearchCosts(
  index: SearchIndexCost,
  rows: SearchCostRow[],
  messageBytes: number,
): string {
  const usd = (n: number) => `$${n.toFixed(4)}`;
  return [
    `search: the index, per million messages of ${messageBytes} bytes (${index.words} words and ${index.stems} stems each, 1 WRU an item)`,
    `  ${'writes'.padEnd(40)}${usd(index.writeUsdPerMillion).padStart(12)}`,
    `  ${'storage for the retention'.padEnd(40)}${usd(index.storageUsdPerMillion).padStart(12)}`,
    `search: USD per thousand searches (each word's ${SEARCH_LIMITS.candidatesPerWord} newest entries read per room, ${READ_BACK} messages read back)`,
    ...rows.map(
      (r) =>
        `  ${r.name.padEnd(40)}${`${r.readUnits.toFixed(1)} RRU`.padStart(12)}${usd(r.usdPerThousand).padStart(12)}`,
    ),
    '',
  ].join('\n');
}
