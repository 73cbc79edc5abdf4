import { BadRequest, NotSubscribed } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type PersonGate, takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import type { ConnectionStore, RoomStore } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import type { Clock } from '#platform/clock';
import { logger } from '#platform/powertools';
import {
  type FoundFrame,
  foldText,
  indexWords,
  normalizeRoomId,
  SEARCH_LIMITS,
  searchWords,
} from '#protocol';
import type { FoundMessage, SearchCandidate, WordIndex } from './ports';
import { cursorOf, type SearchQuery } from './query';
import { type Stem, stemsOf } from './stems';

/**
 * Search (docs/DECISIONS.md, "Search" and "Search indexed by the fan-out"): a word index in DynamoDB, one entry per
 * word of a message but stop-words, written by the fan-out after it posts the message (search/indexing.ts), so a
 * message is found a moment after its members get it (eventually consistent); an edit rewrites the words it changes and
 * a delete removes them, beside the change's publish (reindex). A search reads each query word's newest entries in
 * each room searched (one Query each), keeps the messages every word points at, and reads those back newest first: a
 * message is listed only when it is live, not deleted, and its text now holds every word, so an entry left behind by a
 * failed or late index write never shows a deleted or edited-away word. Only rooms the connection is in are read.
 */

/** Newest first: by send time, then seq, then room code (every message has one place). */
const newestFirst = (a: SearchCandidate, b: SearchCandidate) =>
  b.at - a.at || b.seq - a.seq || (a.roomId < b.roomId ? 1 : a.roomId > b.roomId ? -1 : 0);

interface SearchDeps {
  connections: ConnectionStore;
  /** The rooms' items, read for their names when `in:` names no room by its code. */
  rooms: Pick<RoomStore, 'get'>;
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
  const open = rooms.filter((roomId) => !(options.noLobby && roomId === LOBBY));
  const searched = query.in === undefined ? open : await roomsNamed(deps, open, query.in);
  const nowSeconds = epochSeconds(deps.now());
  const all = await matching(deps.words, searched, query, nowSeconds);
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
      if (message && holdsAll(message.text, query) && sentBy(message, query.from)) {
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
    ...(query.prefixes.length > 0 && { prefixes: query.prefixes }),
    ...(query.roomId && { roomId: query.roomId }),
    results: listed.map(({ roomId, seq, username, authorKey, text, sentAt, threadOf }) => ({
      roomId,
      seq,
      username,
      ...(authorKey !== undefined && { authorKey }),
      text,
      sentAt,
      ...(threadOf !== undefined && { threadOf }),
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

/**
 * The rooms `in:` names among those searched: the one whose code it is, else those whose name it is (folded; private
 * rooms' names may repeat, and each is kept). Names are read from the rooms' items, QUERIES_AT_ONCE at a time.
 */
async function roomsNamed(deps: SearchDeps, rooms: string[], named: string): Promise<string[]> {
  const code = normalizeRoomId(named);
  if (code !== undefined && rooms.includes(code)) return [code];
  const wanted = foldText(named);
  const items = await inTurns(rooms, QUERIES_AT_ONCE, (roomId) => deps.rooms.get(roomId));
  const found = rooms.filter((_, i) => {
    const name = items[i]?.name;
    return name !== undefined && foldText(name) === wanted;
  });
  if (found.length === 0)
    throw new BadRequest(
      `"in:${named}" names none of the rooms searched: use the name or code of a room you are in.`,
    );
  return found;
}

/** Every room's messages whose entries hold all the words and prefixes, newest first across rooms (by send time). */
async function matching(
  index: WordIndex,
  rooms: string[],
  query: Pick<SearchQuery, 'words' | 'prefixes'>,
  nowSeconds: number,
): Promise<SearchCandidate[]> {
  const terms = [...query.words.map((word) => ({ word })), ...query.prefixes.map((prefix) => ({ prefix }))];
  const reads = rooms.flatMap((roomId) => terms.map((term) => ({ roomId, term })));
  const lists = await inTurns(reads, QUERIES_AT_ONCE, ({ roomId, term }) =>
    'word' in term
      ? index.candidates(roomId, term.word, SEARCH_LIMITS.candidatesPerWord, nowSeconds)
      : index.prefixCandidates(roomId, term.prefix, SEARCH_LIMITS.candidatesPerWord, nowSeconds),
  );
  const found: SearchCandidate[] = [];
  for (let r = 0; r < rooms.length; r++) {
    const [first, ...others] = lists.slice(r * terms.length, (r + 1) * terms.length);
    const inOthers = others.map((list) => new Set(list.map((c) => c.seq)));
    for (const candidate of first ?? []) {
      if (inOthers.every((seqs) => seqs.has(candidate.seq))) found.push(candidate);
    }
  }
  return found.sort(newestFirst);
}

/** Whether the text as it reads now holds every word and prefix (an entry may be older than an edit). */
function holdsAll(text: string, query: Pick<SearchQuery, 'words' | 'prefixes'>): boolean {
  const held = searchWords(text);
  const set = new Set(held);
  return (
    query.words.every((word) => set.has(word)) &&
    query.prefixes.every((prefix) => held.some((word) => word.startsWith(prefix)))
  );
}

/** Whether `from:` keeps the message: its sender's name as shown, folded, is the one asked for. */
const sentBy = (message: FoundMessage, from: string | undefined) =>
  from === undefined || foldText(message.username) === from;

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
 * Keeps the word index in step with a changed message (reindexHook): the words `before` had and `after` has
 * not are removed, the new ones added. Only the change knows the text it takes away (a delete scrubs it), so it writes
 * beside its publish. Best effort: a failed write is logged, never the changer's error (the change is stored and
 * sent; search reads every candidate back, so a stale entry shows nothing).
 */
async function reindex(
  index: WordIndex,
  message: { roomId: string; seq: number; sentAt: string },
  before: string | undefined,
  after: string | undefined,
  ttl: number,
): Promise<void> {
  const had = new Set(before === undefined ? [] : indexWords(before));
  const has = after === undefined ? [] : indexWords(after);
  const added = has.filter((word) => !had.has(word));
  const kept = new Set(has);
  const removed = [...had].filter((word) => !kept.has(word));
  const stems = stemChanges([...had], has);
  const at = Date.parse(message.sentAt);
  try {
    await Promise.all([
      added.length > 0 && index.add(message.roomId, message.seq, at, added, ttl),
      removed.length > 0 && index.remove(message.roomId, message.seq, removed),
      stems.put.length > 0 && index.putStems(message.roomId, message.seq, at, stems.put, ttl),
      stems.removed.length > 0 && index.removeStems(message.roomId, message.seq, stems.removed),
    ]);
  } catch (error) {
    logger.warn('the word index was not updated', {
      roomId: message.roomId,
      seq: message.seq,
      error: (error as Error).name,
    });
  }
}

/** A message as a change leaves it, as far as its words go. */
interface IndexedMessage {
  roomId: string;
  seq: number;
  sentAt: string;
  text: string;
  deleted?: unknown;
}

/**
 * Search's part in a change of a message: a hook on the change path's `afterStore` (messages/changeHooks.ts, typed by
 * shape: search imports no messages module), registered by the function that hosts search
 * (messages/changeFeatures.ts). The message's words as the change leaves its text, a deleted message holding none,
 * under the message's own expiry; a change that leaves the text as it was (a pin, say) writes nothing.
 */
export function reindexHook(index: WordIndex) {
  const textOf = (message: IndexedMessage) => (message.deleted ? undefined : message.text);
  return {
    name: 'search',
    afterStore: async (changed: { before: IndexedMessage; after: IndexedMessage; expiresAt: number }) => {
      const { before, after, expiresAt } = changed;
      if (textOf(before) === textOf(after)) return;
      await reindex(index, before, textOf(before), textOf(after), expiresAt);
    },
  };
}

/** The stems an edit rewrites (their words changed, or new) and those it leaves with no word (stems.ts). */
function stemChanges(before: string[], after: string[]): { put: Stem[]; removed: string[] } {
  const had = new Map(stemsOf(before).map(({ stem, words }) => [stem, words.join(' ')] as const));
  const has = stemsOf(after);
  const kept = new Set(has.map(({ stem }) => stem));
  return {
    put: has.filter(({ stem, words }) => had.get(stem) !== words.join(' ')),
    removed: [...had.keys()].filter((stem) => !kept.has(stem)),
  };
}
