import { epochSeconds } from '#core/roomLife';
import { logger } from '#platform/powertools';
import { indexWords } from '#protocol';
import type { WordEntries } from './dynamoWords';
import { stemsOf } from './stems';

/**
 * Search's index, written by the fan-out (docs/DECISIONS.md, "Search indexed by the fan-out"): once a room's turn has
 * posted its frames, the machine's IndexWords step (statemachines/fanout.asl.json) hands them here, and every message
 * they carry has its words (protocol indexWords: no stop-words) and their stems (stems.ts) put in the Words table, all the turn's
 * entries in BatchWriteItems of 25. The send's ack never waits on it, nor do the members: a message is found by search
 * a moment after its members get it. A turn received again (Express runs at least once) puts the same items again.
 *
 * The frames hold each message as the turn read it from the log (messages/changeFrames.ts messageFrameOf): its text
 * after any edit, none once deleted. An edit or delete made after that read rewrites or removes its own entries
 * (searching.ts reindexHook); an entry written after it is never shown, since search reads every candidate back.
 */

/** A frame as the fan-out posted it (deliver/coalescing.ts Frame): what the index reads of it. */
interface Frame {
  payload: string;
  /** Messages it carries: 0 for a resync frame or an event that is no message. */
  messages: number;
}

/** Where the turn's entries go: DynamoWordIndex (dynamoWords.ts). */
export interface TurnIndex {
  addMany(entries: readonly WordEntries[]): Promise<void>;
}

export interface IndexInput {
  op: 'index';
  roomId: string;
  /** The turn's frames as posted (deliver/prepare.ts PreparedRoom.frames). */
  frames: Frame[];
}

export interface IndexReport {
  /** Messages whose words were put. */
  messages: number;
  /** Entries put (one write unit each): the messages' words and their stems (stems.ts). */
  entries: number;
}

/** A message of a frame, as messageFrameOf serializes it: the fields the index reads. */
interface MessageOfFrame {
  type?: unknown;
  seq?: unknown;
  text?: unknown;
  sentAt?: unknown;
  deleted?: unknown;
}

/** The messages a frame carries: the frame itself, or each one of a `batch` (coalescing.ts batchFrames). */
function messagesOf(payload: string): MessageOfFrame[] {
  let frame: MessageOfFrame & { messages?: unknown };
  try {
    frame = JSON.parse(payload) as MessageOfFrame & { messages?: unknown };
  } catch {
    return [];
  }
  if (frame?.type === 'batch' && Array.isArray(frame.messages)) return frame.messages as MessageOfFrame[];
  return [frame];
}

/**
 * The entries of the turn's messages: each live message (not deleted, some text) under its room and seq, with its send
 * time and the messages' retention from it as the entries' end (as the message's own).
 */
function turnEntries(roomId: string, frames: readonly Frame[], retentionSeconds: number): WordEntries[] {
  const entries: WordEntries[] = [];
  for (const frame of frames) {
    if (frame.messages === 0 || typeof frame.payload !== 'string') continue;
    for (const message of messagesOf(frame.payload)) {
      const { type, seq, text, sentAt, deleted } = message ?? {};
      if (type !== 'message' || !Number.isSafeInteger(seq) || typeof text !== 'string') continue;
      if (deleted !== undefined || typeof sentAt !== 'string') continue;
      const at = Date.parse(sentAt);
      const words = indexWords(text);
      if (!Number.isFinite(at) || words.length === 0) continue;
      entries.push({
        roomId,
        seq: seq as number,
        at,
        words,
        ttl: epochSeconds(new Date(at)) + retentionSeconds,
      });
    }
  }
  return entries;
}

/**
 * Puts the turn's entries, unless SearchIndexing is off. A write that still fails after the adapter's retries is
 * logged and thrown: the machine moves on to the cursor (IndexWords' Catch), and those messages are not found.
 */
export async function indexTurn(
  input: IndexInput,
  index: TurnIndex,
  options: { enabled: boolean; retentionSeconds: number },
): Promise<IndexReport> {
  if (typeof input.roomId !== 'string' || !Array.isArray(input.frames))
    throw new TypeError("a fan-out index step needs the room's roomId and frames");
  if (!options.enabled) return { messages: 0, entries: 0 };
  const entries = turnEntries(input.roomId, input.frames, options.retentionSeconds);
  if (entries.length === 0) return { messages: 0, entries: 0 };
  try {
    await index.addMany(entries);
  } catch (error) {
    logger.warn('fan-out could not index a turn: its messages are not found by search', {
      roomId: input.roomId,
      seqs: entries.map((e) => e.seq),
      error: (error as Error).name,
    });
    throw error;
  }
  return {
    messages: entries.length,
    entries: entries.reduce((n, e) => n + e.words.length + stemsOf(e.words).length, 0),
  };
}
