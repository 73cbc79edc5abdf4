import type { MessageFrame, ThreadSummary } from '#protocol';

/**
 * A message's item as threads read it to show it: the reply's place (`threadOf`, `alsoToRoom`, as sent) and a root's
 * attributes (threads.ts: its replies' count, last reply and participants), as the document client reads them.
 */
interface ThreadedItem {
  threadOf?: number;
  alsoToRoom?: boolean;
  replyCount?: number;
  lastReplyAt?: string;
  lastReplySeq?: number;
  replyNames?: Iterable<string>;
}

/**
 * What threads show on a message's frame (functions/messages/messageParts.ts): a reply's `threadOf` (and
 * `alsoToRoom` when it is shown in the room's flow too), and a root's summary once it has a reply (its participants
 * sorted by name).
 */
export function threadShown(item: ThreadedItem): Pick<MessageFrame, 'threadOf' | 'alsoToRoom' | 'thread'> {
  const { threadOf, alsoToRoom } = item;
  return {
    ...(threadOf !== undefined && { threadOf }),
    ...(threadOf !== undefined && alsoToRoom === true && { alsoToRoom }),
    ...(item.replyCount ? { thread: summaryOf(item) } : {}),
  };
}

function summaryOf(item: ThreadedItem): ThreadSummary {
  return {
    replyCount: Number(item.replyCount),
    lastReplyAt: String(item.lastReplyAt ?? ''),
    lastReplySeq: Number(item.lastReplySeq ?? 0),
    participants: [...(item.replyNames ?? [])].sort(),
  };
}
