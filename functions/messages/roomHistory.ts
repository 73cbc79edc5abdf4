import { requireConnection } from '#core/identity/connections';
import { memberKey, senderOf } from '#core/memberKeys';
import { fitMessages } from '#core/pages';
import type { Connection } from '#core/ports';
import {
  type ChatMessage,
  type HistoryFrame,
  type HistoryQuery,
  LOBBY,
  REPLY_QUOTE_CHARS,
} from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import type { AuthorProfile } from '#protocol';
import { isStoredChange, roomFrameOf, type StoredMessage } from './changeFrames';
import type { MessagePorts, MessageStore } from './ports';

/**
 * A room's stored events as its members read them, a page at a time: `history`, and the recent messages a join or
 * a subscribe carries (functions/rooms/joining.ts, subscribing.ts).
 */

/**
 * A room's stored events as `member` sees them: messages in their final state, with their reactions (read for the
 * messages that have some: two small items each, in one BatchGetItem per 50) and the ones it gave marked (`mine`),
 * and the changes.
 */
export async function framesFor(
  messages: Pick<MessageStore, 'reactions'>,
  member: Connection,
  events: ChatMessage[],
) {
  const viewer = memberKey(member.roomId, senderOf(member));
  const reacted = events
    .filter((event) => !isStoredChange(event) && (event as StoredMessage).reacted === true && !event.deleted)
    .map((event) => event.seq);
  const states = reacted.length > 0 ? await messages.reactions(member.roomId, reacted, viewer) : undefined;
  return events.map((event) => {
    const reactionState = states?.get(event.seq);
    return roomFrameOf(reactionState ? ({ ...event, reactionState } as StoredMessage) : event);
  });
}

/**
 * Gaps one page lists at most (~17 KB of its 120 KB): those nearest where the page starts, so a reader catching up
 * moves on; one that lies beyond them waits for its hole as without them.
 */
const HISTORY_GAPS = 1_000;

/**
 * A page of the room's messages in seq order: the latest `limit`, or the first `limit` after `afterSeq`, as many as
 * fit one reply (pages.ts); `hasMore` when the room has messages after the page's last one. Messages past their
 * TTL are left out, deleted or not. `gaps`: the seqs given up (gap markers: core/gaps.ts) the read passed within the page's
 * span, so a reader counts them delivered instead of waiting for them (docs/DECISIONS.md, "Gaps are told where
 * members read").
 */
export async function history(
  deps: Pick<MessagePorts, 'connections' | 'messages' | 'now'> & {
    /** The profiles of the page's signed-in authors (core/profiles.ts authorProfiles); absent: none given. */
    authorProfiles?: (page: StoredMessage[]) => Promise<AuthorProfile[]>;
  },
  connectionId: string,
  query: HistoryQuery,
  options: { noLobby?: boolean } = {},
): Promise<HistoryFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  if (options.noLobby && roomId === LOBBY) return { type: 'history', roomId, messages: [], hasMore: false };
  const now = epochSeconds(deps.now());
  let messages: ChatMessage[];
  let beyondLimit = false;
  let hasOlder: boolean | undefined;
  const read: number[] = [];
  if (query.afterSeq === undefined) {
    // Backwards (the latest page, or one before `beforeSeq`): one more than asked tells whether older ones are kept.
    messages =
      query.beforeSeq === undefined
        ? await deps.messages.latest(roomId, query.limit + 1, now, read)
        : await deps.messages.before(roomId, query.beforeSeq, query.limit + 1, now, read);
    hasOlder = messages.length > query.limit;
    messages = messages.slice(-query.limit);
  } else {
    // One more than asked tells whether the room goes on after the page.
    messages = await deps.messages.after(roomId, query.afterSeq, query.limit + 1, now, read);
    beyondLimit = messages.length > query.limit;
    messages = messages.slice(0, query.limit);
  }
  messages = await withQuotes(deps.messages, roomId, messages, now);
  const profiles = deps.authorProfiles
    ? await deps.authorProfiles(messages.filter((m) => !isStoredChange(m)) as StoredMessage[])
    : [];
  const gapsRead = pageGaps(read, messages, query, beyondLimit);
  // Sized with `hasMore: false`, the longer of its two values, and with the authors' profiles and the gaps.
  const frame = { type: 'history' as const, roomId, messages: [], hasMore: false };
  const { page, cut } = fitMessages(
    { ...frame, profiles, gaps: gapsRead },
    'messages',
    await framesFor(deps.messages, connection, messages),
  );
  // A gap above a cut page's last message comes with the next page.
  const lastKept = page.at(-1)?.seq;
  const gaps = cut && lastKept !== undefined ? gapsRead.filter((seq) => seq < lastKept) : gapsRead;
  // Only the authors of the messages kept.
  const shown = new Set(page.map((m) => ('username' in m ? m.username : undefined)));
  const pageProfiles = profiles.filter((p) => shown.has(p.username));
  return {
    ...frame,
    ...(pageProfiles.length > 0 && { profiles: pageProfiles }),
    messages: page,
    ...(gaps.length > 0 && { gaps }),
    hasMore: cut || beyondLimit,
    ...(hasOlder !== undefined && { hasOlder }),
  };
}

/**
 * The gaps the read passed within the page's span, ascending, at most HISTORY_GAPS nearest where it starts: after
 * `afterSeq` up to its last message (all of them when the room has no more), or, reading back, below its last
 * message (above it: the room's newest seqs, which a reader is told of with the event above them) and down to its
 * first when older ones are kept.
 */
function pageGaps(read: number[], page: ChatMessage[], query: HistoryQuery, more: boolean): number[] {
  const first = page[0]?.seq;
  const last = page.at(-1)?.seq;
  const ascending = [...new Set(read)].sort((a, b) => a - b);
  const { afterSeq } = query;
  if (afterSeq !== undefined) {
    const within = ascending.filter((seq) => seq > afterSeq && (!more || last === undefined || seq < last));
    return within.slice(0, HISTORY_GAPS);
  }
  if (first === undefined || last === undefined) return [];
  const within = ascending.filter((seq) => seq > first && seq < last);
  return within.slice(-HISTORY_GAPS);
}

/**
 * The page's replies with how their originals read now (ReplyRef): the start of the text, or `deleted`, taken from
 * the page itself or read in one BatchGetItem for originals before it; an expired original gets neither.
 */
export async function withQuotes(
  messages: MessageStore,
  roomId: string,
  page: ChatMessage[],
  nowSeconds: number,
): Promise<ChatMessage[]> {
  const replies = page.filter((m) => m.replyTo !== undefined);
  if (replies.length === 0) return page;
  const inPage = new Map(page.filter((m) => !isStoredChange(m)).map((m) => [m.seq, m]));
  const elsewhere = [...new Set(replies.map((m) => m.replyTo?.seq as number))].filter(
    (seq) => !inPage.has(seq),
  );
  const read = await messages.quoted(roomId, elsewhere, nowSeconds);
  const now = (seq: number) => {
    const original = inPage.get(seq);
    return original ? { text: original.text, deleted: original.deleted !== undefined } : read.get(seq);
  };
  return page.map((m) => {
    if (!m.replyTo) return m;
    const { seq, username } = m.replyTo;
    const original = now(seq);
    const quote = !original
      ? {}
      : original.deleted
        ? { deleted: true }
        : { text: [...original.text].slice(0, REPLY_QUOTE_CHARS).join('') };
    return { ...m, replyTo: { seq, username, ...quote } };
  });
}
