import { BadRequest, NotSubscribed } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type PersonGate, takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import type { ConnectionStore } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import type { Clock } from '#platform/clock';
import { logger } from '#platform/powertools';
import { type FoundFrame, indexWords, normalizeRoomId, SEARCH_LIMITS, searchWords } from '#protocol';
import type { FoundMessage, SearchCandidate, WordIndex } from './ports';

/**
 * Search (docs/DECISIONS.md, "Search" and "Search indexed by the fan-out"): a word index in DynamoDB, one entry per
 * word of a message but stop-words, written by the fan-out after it posts the message (search/indexing.ts), so a
 * message is found a moment after its members get it (eventually consistent); an edit rewrites the words it changes and
 * a delete removes them, beside the change's publish (reindex). A search reads each query word's newest entries in
 * each room searched (one Query each), keeps the messages every word points at, and reads those back newest first: a
 * message is listed only when it is live, not deleted, and its text now holds every word, so an entry left behind by a
 * failed or late index write never shows a deleted or edited-away word. Only rooms the connection is in are read.
 */

interface SearchQuery {
  words: string[];
  /** One room; absent: every room of the connection. */
  roomId?: string;
  limit: number;
  /** The page starts after this position (the `next` of the page before). */
  before?: SearchCandidate;
}

/** A page's cursor: where its last message stands in the order (`at`, `seq`, room). */
const CURSOR = /^(\d{1,15}):(\d{1,15}):([A-Za-z0-9]{1,32})$/;
const cursorOf = (c: SearchCandidate) => `${c.at}:${c.seq}:${c.roomId}`;

/** Newest first: by send time, then seq, then room code (every message has one place). */
const newestFirst = (a: SearchCandidate, b: SearchCandidate) =>
  b.at - a.at || b.seq - a.seq || (a.roomId < b.roomId ? 1 : a.roomId > b.roomId ? -1 : 0);

export function parseSearch(body: Record<string, unknown>): SearchQuery {
  const { query, roomId, limit, before } = body;
  if (typeof query !== 'string' || query.trim().length === 0)
    throw new BadRequest('"query" is required: the words to search for.');
  if (query.length > SEARCH_LIMITS.queryMaxChars)
    throw new BadRequest(`"query" must be at most ${SEARCH_LIMITS.queryMaxChars} characters.`);
  if (searchWords(query).length === 0)
    throw new BadRequest(
      `"query" holds no word to search for: a word is ${SEARCH_LIMITS.wordMinChars} or more letters or digits.`,
    );
  // Stop-words are not indexed (protocol STOP_WORDS): a query of them alone could only ever find nothing.
  const words = indexWords(query);
  if (words.length === 0)
    throw new BadRequest(
      '"query" holds only common words ("the", "and", "you"...), which search leaves out: add a less common word.',
    );
  if (words.length > SEARCH_LIMITS.queryMaxWords)
    throw new BadRequest(`Search for at most ${SEARCH_LIMITS.queryMaxWords} words at once.`);
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
    ...(room && { roomId: room }),
    limit: (limit as number | undefined) ?? SEARCH_LIMITS.maxResults,
    ...(after && { before: after }),
  };
}

interface SearchDeps {
  connections: ConnectionStore;
  words: WordIndex;
  now: Clock;
  person?: PersonGate;
}

/** Queries in flight at once: a search of every room is at most 101 rooms × 5 words. */
const QUERIES_AT_ONCE = 20;
/** Candidates read back per BatchGetItem, and the rounds a search reads at most (entries left by failed writes). */
const READ_BACK = 40;
const READ_ROUNDS = 3;

export async function search(
  deps: SearchDeps,
  connectionId: string,
  query: SearchQuery,
  options: { sourceIp?: string; noLobby?: boolean } = {},
): Promise<FoundFrame> {
  const connection = await requireConnection(deps, connectionId);
  await takePersonToken(deps.person, 'search', limitOwner(connection.userId, options.sourceIp));
  const rooms = await roomsSearched(deps, connection.connectionId, connection.roomId, query.roomId);
  const searched = rooms.filter((roomId) => !(options.noLobby && roomId === LOBBY));
  const nowSeconds = epochSeconds(deps.now());
  const all = await matching(deps.words, searched, query.words, nowSeconds);
  // A later page: the same candidates, those past the cursor (each page reads the index as the first does).
  const { before } = query;
  const candidates = before ? all.filter((c) => newestFirst(before, c) < 0) : all;
  const results: FoundMessage[] = [];
  const positions: SearchCandidate[] = [];
  let next = 0;
  for (
    let round = 0;
    round < READ_ROUNDS && next < candidates.length && results.length < query.limit;
    round++
  ) {
    const batch = candidates.slice(next, next + READ_BACK);
    next += batch.length;
    const read = new Map(
      (await deps.words.messages(batch, nowSeconds)).map((m) => [`${m.roomId}#${m.seq}`, m] as const),
    );
    for (const candidate of batch) {
      const message = read.get(`${candidate.roomId}#${candidate.seq}`);
      if (message && holdsAll(message.text, query.words)) {
        results.push(message);
        positions.push(candidate);
      }
    }
  }
  const listed = results.slice(0, query.limit);
  const more = results.length > query.limit || next < candidates.length;
  // The next page starts after the last message listed, or after the last candidate read when fewer matched.
  const last = results.length > query.limit ? positions[query.limit - 1] : candidates[next - 1];
  return {
    type: 'found',
    words: query.words,
    ...(query.roomId && { roomId: query.roomId }),
    results: listed.map(({ roomId, seq, username, text, sentAt }) => ({
      roomId,
      seq,
      username,
      text,
      sentAt,
    })),
    ...(more && { more: true as const }),
    ...(more && last && { next: cursorOf(last) }),
  };
}

/**
 * The rooms a search reads: the one named, only if the connection is in it (shows it or follows it, read strongly
 * consistent: a room just left is refused), else every room it is in.
 */
async function roomsSearched(
  deps: SearchDeps,
  connectionId: string,
  shown: string,
  named: string | undefined,
): Promise<string[]> {
  if (named !== undefined) {
    if (named !== shown && !(await deps.connections.subscription(connectionId, named)))
      throw new NotSubscribed(named);
    return [named];
  }
  const followed = await deps.connections.followed(connectionId);
  return [...new Set([shown, ...followed.map((s) => s.roomId)])];
}

/** Every room's messages whose entries hold all the words, newest first across rooms (by send time). */
async function matching(
  index: WordIndex,
  rooms: string[],
  words: string[],
  nowSeconds: number,
): Promise<SearchCandidate[]> {
  const reads = rooms.flatMap((roomId) => words.map((word) => ({ roomId, word })));
  const lists = await inTurns(reads, QUERIES_AT_ONCE, ({ roomId, word }) =>
    index.candidates(roomId, word, SEARCH_LIMITS.candidatesPerWord, nowSeconds),
  );
  const found: SearchCandidate[] = [];
  for (let r = 0; r < rooms.length; r++) {
    const [first, ...others] = lists.slice(r * words.length, (r + 1) * words.length);
    const inOthers = others.map((list) => new Set(list.map((c) => c.seq)));
    for (const candidate of first ?? []) {
      if (inOthers.every((seqs) => seqs.has(candidate.seq))) found.push(candidate);
    }
  }
  return found.sort(newestFirst);
}

/** Whether the text as it reads now holds every word (an entry may be older than an edit). */
function holdsAll(text: string, words: string[]): boolean {
  const held = new Set(searchWords(text));
  return words.every((word) => held.has(word));
}

async function inTurns<T, R>(items: T[], atOnce: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(atOnce, items.length) }, worker));
  return results;
}

/**
 * Keeps the word index in step with a changed message (messages/changing.ts): the words `before` had and `after` has
 * not are removed, the new ones added. Only the change knows the text it takes away (a delete scrubs it), so it writes
 * beside its publish. Best effort: a failed write is logged, never the changer's error (the change is stored and
 * sent; search reads every candidate back, so a stale entry shows nothing).
 */
export async function reindex(
  index: WordIndex | undefined,
  message: { roomId: string; seq: number; sentAt: string },
  before: string | undefined,
  after: string | undefined,
  ttl: number,
): Promise<void> {
  if (!index) return;
  const had = new Set(before === undefined ? [] : indexWords(before));
  const has = after === undefined ? [] : indexWords(after);
  const added = has.filter((word) => !had.has(word));
  const kept = new Set(has);
  const removed = [...had].filter((word) => !kept.has(word));
  try {
    await Promise.all([
      added.length > 0 && index.add(message.roomId, message.seq, Date.parse(message.sentAt), added, ttl),
      removed.length > 0 && index.remove(message.roomId, message.seq, removed),
    ]);
  } catch (error) {
    logger.warn('the word index was not updated', {
      roomId: message.roomId,
      seq: message.seq,
      error: (error as Error).name,
    });
  }
}
