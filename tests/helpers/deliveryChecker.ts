import {
  DynamoDBClient,
  GetItemCommand,
  paginateQuery,
  paginateScan,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import { auditDelivery } from '@roomcast/client';
import type { LocalCloud } from '../../tools/local/cloud';
import { type ChatClient, type Frame, messagesIn } from './chatClient';

/**
 * Checks what live members of a room received against what the room holds: for every member it records the seqs
 * that arrived live (each message once, whether it came alone or in a `batch` frame), then reports lost, duplicated and out-of-order deliveries and the gaps the
 * member filled by asking `history` — the recovery the protocol promises (docs/PROTOCOL.md, "Ordering, gaps and
 * retries").
 *
 * The truth is the room's history (what was stored) plus the acks senders got: a message acked but absent from
 * history is lost at the source; a stored message a live member neither received nor could fetch is lost to it.
 */

interface Member {
  client: ChatClient;
  roomId: string;
  /** Messages with seq <= afterSeq predate the member (the `lastSeq` of its `joined` frame). */
  afterSeq: number;
  live: boolean;
  /** Index into client.frames from which message frames count (frames before the join belong to other rooms). */
  fromFrame: number;
  filled: Set<number>;
}

export interface MemberProblem {
  member: string;
  roomId: string;
  lost: number[];
  duplicated: number[];
  filledByHistory: number[];
  wrongMessage: number[];
}

export interface DeliveryReport {
  rooms: number;
  /** Live members checked (vanished ones are not owed anything). */
  liveMembers: number;
  /** Distinct messages stored or acked in the checked rooms, after each member's join. */
  messages: number;
  /** Messages owed to live members (sum over members of the messages sent after they joined). */
  expectedDeliveries: number;
  /** Messages that arrived live (a batch of n counts n). */
  deliveries: number;
  /** Frames that carried them (a batch counts once): with coalescing, fewer than `deliveries`. */
  frames: number;
  lost: number;
  duplicated: number;
  /** Live arrivals whose seq was lower than one already seen (the client reorders by seq). */
  arrivedOutOfOrder: number;
  /** After reordering by seq and filling by history: seqs not strictly increasing without gaps. */
  outOfOrderAfterReorder: number;
  filledByHistory: number;
  /** Acked seqs that history does not hold: a sender was told "stored" for a message that is not. */
  ackedButNotStored: number;
  /** Members with any problem (lost, duplicated, a different message than acked at a seq). */
  problems: MemberProblem[];
}

const seqOf = (f: Frame) => (typeof f.seq === 'number' ? f.seq : Number.NaN);

export class DeliveryChecker {
  private readonly members = new Map<ChatClient, Member>();
  /** roomId -> seq -> messageId, from acks. */
  private readonly acked = new Map<string, Map<number, string>>();
  /** roomId -> seq -> messageId, from history (filled by `fillGaps`). */
  private readonly stored = new Map<string, Map<number, string>>();

  /** Starts watching a member of a room; `joined` is its `joined` reply (its lastSeq marks where it starts). */
  member(client: ChatClient, joined: Frame): void {
    const roomId = String(joined.roomId);
    // What the member holds is the history it was given; anything after it is owed live or by `history`, so a
    // `lastSeq` ahead of the history it came with (a message still being stored) cannot hide a gap.
    const history = (joined.history as Frame[] | undefined) ?? [];
    const lastSeq = typeof joined.lastSeq === 'number' ? joined.lastSeq : 0;
    const afterSeq = history.length > 0 ? Math.max(...history.map(seqOf)) : lastSeq;
    this.members.set(client, {
      client,
      roomId,
      afterSeq,
      live: true,
      fromFrame: client.frames.indexOf(joined),
      filled: new Set(),
    });
  }

  /** The member left without notice (or was cut off): nothing is owed to it any more. */
  vanish(client: ChatClient): void {
    const member = this.members.get(client);
    if (member) member.live = false;
  }

  /** A sender's ack: this seq holds this message, so every live member of the room is owed it. */
  sent(ack: Frame): void {
    if (ack.type !== 'ack') throw new Error(`not an ack: ${JSON.stringify(ack)}`);
    const roomId = String(ack.roomId);
    const seqs = this.acked.get(roomId) ?? new Map<number, string>();
    this.acked.set(roomId, seqs);
    const before = seqs.get(seqOf(ack));
    if (before !== undefined && before !== ack.messageId)
      throw new Error(`room ${roomId} seq ${seqOf(ack)} acked for two messages: ${before}, ${ack.messageId}`);
    seqs.set(seqOf(ack), String(ack.messageId));
  }

  liveMembers(): ChatClient[] {
    return [...this.members.values()].filter((m) => m.live).map((m) => m.client);
  }

  /** Seqs that arrived live for a member, in arrival order. */
  arrivals(client: ChatClient): number[] {
    const member = this.members.get(client);
    if (!member) throw new Error('not a watched member');
    return this.liveFrames(member).map(seqOf);
  }

  /**
   * Reads each room's history through one of its live members (the stored truth), then lets every live member
   * that is missing a seq fetch it with `{"action":"history","afterSeq":n}` as a real client would.
   */
  async fillGaps(): Promise<void> {
    const byRoom = new Map<string, Member[]>();
    for (const m of this.members.values()) {
      if (!m.live) continue;
      byRoom.set(m.roomId, [...(byRoom.get(m.roomId) ?? []), m]);
    }
    for (const [roomId, members] of byRoom) {
      const reader = members[0] as Member;
      const from = Math.min(...members.map((m) => m.afterSeq));
      const all = await readHistory(reader.client, from);
      this.stored.set(roomId, new Map(all.map((f) => [seqOf(f), String(f.messageId)])));
      for (const member of members) {
        const missing = this.missing(member);
        if (missing.length === 0) continue;
        const first = Math.min(...missing);
        const fetched = await readHistory(member.client, first - 1);
        const wanted = new Set(missing);
        for (const f of fetched) if (wanted.has(seqOf(f))) member.filled.add(seqOf(f));
      }
    }
  }

  report(): DeliveryReport {
    const report: DeliveryReport = {
      rooms: 0,
      liveMembers: 0,
      messages: 0,
      expectedDeliveries: 0,
      deliveries: 0,
      frames: 0,
      lost: 0,
      duplicated: 0,
      arrivedOutOfOrder: 0,
      outOfOrderAfterReorder: 0,
      filledByHistory: 0,
      ackedButNotStored: 0,
      problems: [],
    };
    const rooms = new Set<string>();
    const messages = new Set<string>();
    for (const m of this.members.values()) {
      if (!m.live) continue;
      rooms.add(m.roomId);
      report.liveMembers++;
      const truth = this.truth(m.roomId);
      const owed = [...truth.keys()].filter((s) => s > m.afterSeq).sort((a, b) => a - b);
      for (const s of owed) messages.add(`${m.roomId}#${s}`);
      report.expectedDeliveries += owed.length;

      const frames = this.liveFrames(m);
      report.deliveries += frames.length;
      report.frames += this.carriers(m);
      const wrongMessage: number[] = [];
      for (const f of frames) {
        const expectedId = truth.get(seqOf(f));
        if (expectedId !== undefined && expectedId !== f.messageId) wrongMessage.push(seqOf(f));
      }
      const arrived = frames.map(seqOf);
      const {
        lost,
        duplicated,
        extraCopies,
        filledByHistory: filled,
        arrivedOutOfOrder,
      } = auditDelivery(owed, arrived, m.filled);
      report.arrivedOutOfOrder += arrivedOutOfOrder;
      // The view a client builds: live arrivals and history, deduplicated and sorted by seq.
      const view = [...new Set([...arrived, ...filled])].sort((a, b) => a - b);
      for (let i = 1; i < view.length; i++) {
        if ((view[i] as number) !== (view[i - 1] as number) + 1) report.outOfOrderAfterReorder++;
      }
      report.lost += lost.length;
      report.duplicated += extraCopies;
      report.filledByHistory += filled.length;
      if (lost.length > 0 || duplicated.length > 0 || wrongMessage.length > 0) {
        report.problems.push({
          member: m.client.username,
          roomId: m.roomId,
          lost,
          duplicated,
          filledByHistory: filled,
          wrongMessage,
        });
      }
    }
    for (const [roomId, seqs] of this.acked) {
      const stored = this.stored.get(roomId);
      if (!stored) continue;
      for (const s of seqs.keys()) if (!stored.has(s)) report.ackedButNotStored++;
    }
    report.rooms = rooms.size;
    report.messages = messages.size;
    return report;
  }

  /** Stored (history) and acked messages of a room by seq. */
  private truth(roomId: string): Map<number, string> {
    return new Map([...(this.acked.get(roomId) ?? []), ...(this.stored.get(roomId) ?? [])]);
  }

  private missing(member: Member): number[] {
    const received = new Set(this.liveFrames(member).map(seqOf));
    return [...this.truth(member.roomId).keys()].filter((s) => s > member.afterSeq && !received.has(s));
  }

  /** The messages of the member's room that arrived live after its join, batches unpacked, in arrival order. */
  private liveFrames(member: Member): Frame[] {
    return member.client.frames
      .slice(Math.max(0, member.fromFrame))
      .flatMap(messagesIn)
      .filter((f) => f.roomId === member.roomId && seqOf(f) > member.afterSeq);
  }

  /** How many frames brought the member those messages. */
  private carriers(member: Member): number {
    return member.client.frames
      .slice(Math.max(0, member.fromFrame))
      .filter((f) => messagesIn(f).some((m) => m.roomId === member.roomId && seqOf(m) > member.afterSeq))
      .length;
  }
}

/** Every stored message of the client's current room after `afterSeq`, page by page while `hasMore`. */
export async function readHistory(
  client: ChatClient,
  afterSeq: number,
  timeoutMs = 90_000,
): Promise<Frame[]> {
  const all: Frame[] = [];
  let after = afterSeq;
  for (;;) {
    const reply = await client.expectReply({ action: 'history', afterSeq: after, limit: 100 }, timeoutMs);
    const page = (reply.messages as Frame[] | undefined) ?? [];
    all.push(...page);
    if (reply.hasMore !== true || page.length === 0) return all;
    after = seqOf(page.at(-1) as Frame);
  }
}

/** A DynamoDB client for the local cloud's tables, and their physical names from template.yaml. */
export function cloudTables(cloud: LocalCloud) {
  const db = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // The checker reads the truth; it must not be thrown off by the throttling a test injects.
    maxAttempts: 10,
  });
  const name = (logicalId: string) => {
    const table = cloud.template.tables().find((t) => t.logicalId === logicalId);
    if (!table?.TableName) throw new Error(`template.yaml has no ${logicalId}`);
    return table.TableName;
  };
  return {
    db,
    connections: name('ConnectionsTable'),
    subscriptions: name('SubscriptionsTable'),
    rooms: name('RoomsTable'),
    messages: name('MessagesTable'),
    sends: name('SendsTable'),
  };
}

export type CloudTables = ReturnType<typeof cloudTables>;

/**
 * The connections in a room index (a subscription with `roomKey` set): those the next fan-out posts to. A connection
 * that answered 410 leaves the room's index at once (the fan-out's prune); its subscription stays until $disconnect
 * or its ttl.
 */
export async function indexedConnectionIds(tables: CloudTables): Promise<Set<string>> {
  const ids = new Set<string>();
  const input: ScanCommandInput = {
    TableName: tables.subscriptions,
    ProjectionExpression: 'connectionId',
    FilterExpression: 'attribute_exists(roomKey)',
  };
  for await (const page of paginateScan({ client: tables.db }, input)) {
    for (const item of page.Items ?? []) if (item.connectionId?.S) ids.add(item.connectionId.S);
  }
  return ids;
}

export interface RoomAudit {
  roomId: string;
  /** The room's counter: seqs handed out. */
  seq: number;
  /**
   * Seqs in 1..seq with no stored event: taken but never stored (an invocation that failed between its `ADD` and its
   * put). docs/ARCHITECTURE.md: such a gap is harmless (history and clients skip it) but must never be a seq acked.
   */
  missing: number[];
  /** Seqs holding a gap marker (the loser of a clientMsgId race marks the seq it took). */
  gaps: number[];
  /** Stored events, gap markers not counted. */
  stored: number;
}

/** Compares a room's seq counter with its stored events: which seqs hold one, which a gap marker, which nothing. */
export async function auditRoom(tables: CloudTables, roomId: string): Promise<RoomAudit> {
  const { Item } = await tables.db.send(
    new GetItemCommand({ TableName: tables.rooms, Key: { roomId: { S: roomId } }, ConsistentRead: true }),
  );
  const seq = Number(Item?.seq?.N ?? 0);
  const seqs = new Set<number>();
  const gaps = new Set<number>();
  for await (const page of paginateQuery(
    { client: tables.db },
    {
      TableName: tables.messages,
      KeyConditionExpression: 'roomId = :r',
      ExpressionAttributeValues: { ':r': { S: roomId } },
      ProjectionExpression: 'seq, gap',
      ConsistentRead: true,
    },
  )) {
    for (const item of page.Items ?? []) (item.gap?.BOOL ? gaps : seqs).add(Number(item.seq?.N));
  }
  const missing: number[] = [];
  for (let s = 1; s <= seq; s++) if (!seqs.has(s) && !gaps.has(s)) missing.push(s);
  return { roomId, seq, missing, gaps: [...gaps], stored: seqs.size };
}
