import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isGapMarker } from '#core/gaps';
import { batchGetAll, MAX_RETRIES, unprocessedPauseMs } from '#platform/aws/batchGet';
import type { FoundMessage, SearchCandidate, WordIndex } from './ports';
import { type Stem, stemOf, stemsOf } from './stems';

/** DynamoDB's most requests in one BatchWriteItem ("BatchWriteItem", DynamoDB API reference). */
const BATCH_WRITE_MAX = 25;

/** One message's entries: its room and seq, its send time (ms) and end (TTL, epoch seconds), and its words. */
export interface WordEntries {
  roomId: string;
  seq: number;
  at: number;
  words: readonly string[];
  ttl: number;
}

/** An index entry's key: the room and the word (`<roomId>#<word>`) as partition, the message's seq as sort key. */
const wordKey = (roomId: string, word: string) => `${roomId}#${word}`;
/** A stem entry's key: `<roomId>#<stem>*` (a word is letters and digits only: no word key ends in `*`). */
const stemKey = (roomId: string, stem: string) => `${roomId}#${stem}*`;
/** A stem entry's words, space-delimited on both sides: `contains(w, " meet")` holds a word starting `meet`. */
const stemWords = (words: readonly string[]) => ` ${words.join(' ')} `;

const putsOf = (roomId: string, seq: number, at: number, words: readonly string[], ttl: number) =>
  words.map((word) => ({ PutRequest: { Item: { wordKey: wordKey(roomId, word), seq, at, ttl } } }));
const stemPutsOf = (roomId: string, seq: number, at: number, stems: readonly Stem[], ttl: number) =>
  stems.map(({ stem, words }) => ({
    PutRequest: { Item: { wordKey: stemKey(roomId, stem), seq, at, ttl, w: stemWords(words) } },
  }));

/**
 * The DynamoDB adapter of WordIndex (docs/DECISIONS.md, "Search"): the Words table holds one small item per word of a
 * message (`wordKey`, `seq`, `at`, `ttl`: ~60 bytes, 1 WCU), written and deleted in BatchWriteItems of 25, read newest
 * first by one Query per word and room; the messages themselves are read back from the Messages table.
 */
export class DynamoWordIndex implements WordIndex {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { words: string; messages: string },
  ) {}

  add(roomId: string, seq: number, at: number, words: readonly string[], ttl: number): Promise<void> {
    return this.write(putsOf(roomId, seq, at, words, ttl));
  }

  /**
   * Many messages' entries at once (a fan-out turn's, search/indexing.ts), each message's words and their stems
   * (stems.ts): BatchWriteItems of 25 across them.
   */
  addMany(entries: readonly WordEntries[]): Promise<void> {
    return this.write(
      entries.flatMap(({ roomId, seq, at, words, ttl }) => [
        ...putsOf(roomId, seq, at, words, ttl),
        ...stemPutsOf(roomId, seq, at, stemsOf(words), ttl),
      ]),
    );
  }

  remove(roomId: string, seq: number, words: readonly string[]): Promise<void> {
    return this.write(
      words.map((word) => ({ DeleteRequest: { Key: { wordKey: wordKey(roomId, word), seq } } })),
    );
  }

  putStems(roomId: string, seq: number, at: number, stems: readonly Stem[], ttl: number): Promise<void> {
    return this.write(stemPutsOf(roomId, seq, at, stems, ttl));
  }

  removeStems(roomId: string, seq: number, stems: readonly string[]): Promise<void> {
    return this.write(
      stems.map((stem) => ({ DeleteRequest: { Key: { wordKey: stemKey(roomId, stem), seq } } })),
    );
  }

  /**
   * One Query of the stem's key, its `limit` newest entries read (the filter runs after the read, so `Limit` counts
   * entries read, as a word's Query does): those live and holding a word that starts with `prefix`.
   */
  async prefixCandidates(
    roomId: string,
    prefix: string,
    limit: number,
    nowSeconds: number,
  ): Promise<SearchCandidate[]> {
    return this.newest(roomId, stemKey(roomId, stemOf(prefix)), limit, nowSeconds, ` ${prefix}`);
  }

  candidates(roomId: string, word: string, limit: number, nowSeconds: number): Promise<SearchCandidate[]> {
    return this.newest(roomId, wordKey(roomId, word), limit, nowSeconds);
  }

  /**
   * The `limit` newest live entries of one index key (a word's, or a stem's holding a word that starts with
   * `prefix`): one Query, `Limit` counting entries read before the filter.
   */
  private async newest(
    roomId: string,
    key: string,
    limit: number,
    nowSeconds: number,
    prefix?: string,
  ): Promise<SearchCandidate[]> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tables.words,
        KeyConditionExpression: 'wordKey = :key',
        FilterExpression: prefix === undefined ? '#ttl > :now' : '#ttl > :now AND contains(#w, :prefix)',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#at': 'at', ...(prefix !== undefined && { '#w': 'w' }) },
        ExpressionAttributeValues: {
          ':key': key,
          ':now': nowSeconds,
          ...(prefix !== undefined && { ':prefix': prefix }),
        },
        ProjectionExpression: 'seq, #at',
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => ({ roomId, seq: Number(item.seq), at: Number(item.at) }));
  }

  async messages(
    keys: readonly { roomId: string; seq: number }[],
    nowSeconds: number,
  ): Promise<FoundMessage[]> {
    if (keys.length === 0) return [];
    const items = await batchGetAll(this.db, {
      TableName: this.tables.messages,
      Keys: keys.map(({ roomId, seq }) => ({ roomId, seq })),
      ProjectionExpression:
        'roomId, seq, username, authorKey, #text, sentAt, threadOf, deleted, #change, gap, #ttl',
      ExpressionAttributeNames: { '#text': 'text', '#change': 'change', '#ttl': 'ttl' },
    });
    return items
      .filter(
        (item) =>
          item.change === undefined &&
          !isGapMarker(item) &&
          item.deleted === undefined &&
          !(typeof item.ttl === 'number' && item.ttl <= nowSeconds),
      )
      .map((item) => ({
        roomId: String(item.roomId),
        seq: Number(item.seq),
        username: String(item.username),
        ...(typeof item.authorKey === 'string' && { authorKey: item.authorKey }),
        text: String(item.text ?? ''),
        sentAt: String(item.sentAt),
        ...(item.threadOf !== undefined && { threadOf: Number(item.threadOf) }),
      }));
  }

  /** BatchWriteItems of 25, side by side; unprocessed items retried after a full-jitter pause (batchGet.ts's). */
  private async write(requests: Record<string, unknown>[]): Promise<void> {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX)
      batches.push(requests.slice(i, i + BATCH_WRITE_MAX));
    await Promise.all(
      batches.map(async (batch) => {
        let pending: Record<string, unknown>[] | undefined = batch;
        for (let retry = 0; pending && pending.length > 0; retry++) {
          if (retry > MAX_RETRIES)
            throw new Error(`${pending.length} word items still unprocessed after ${MAX_RETRIES} retries`);
          if (retry > 0) await new Promise((resolve) => setTimeout(resolve, unprocessedPauseMs(retry)));
          const answer = await this.db.send(
            new BatchWriteCommand({ RequestItems: { [this.tables.words]: pending } }),
          );
          pending = answer.UnprocessedItems?.[this.tables.words] as Record<string, unknown>[] | undefined;
        }
      }),
    );
  }
}
