/**
 * The rest of the chat's traffic in the model of the fan-out (tools/bench/awsModel.ts), beside featureTraffic.ts's
 * five and on its rows: each kind what its handler does, counted against the quota AWS enforces on it, so a load's
 * row names the quota that binds first with all of it in. Per kind (docs/PERFORMANCE.md, "The rest of the traffic"):
 * - heartbeats (client/typing.ts, client/connection.ts): a typist's `typing` heartbeat every 5 s past the first,
 *   relayed as the first is (its route's bucket, the connection's mark, typing's share of the posting budget); and
 *   a connection's keep-alive `ping` (route `ping`, a mock integration: its bucket and the account's requests) once
 *   it has sent nothing for 9 minutes, which a member marking its room read never reaches.
 * - joins (functions/connection/connect.ts, functions/rooms/dynamoEntry.ts, disconnect.ts): a join's and a leave's
 *   own items, JOIN_WRITES and LEAVE_WRITES; the room index's entries (RoomSubscribers, keyed `roomId#n`) on the
 *   room's keys and the lobby's, each a key of its 1,000 WCU/s. No item counts a room's members: a count is read
 *   from the index.
 * - history (functions/messages/roomHistory.ts): the `joined` reply's page of the room's messages, and members'
 *   `history` calls (scrolling back); a page of LIMITS.historyDefault messages, one strongly consistent Query of the
 *   room's partition (1 RCU per 4 KB, its 3,000 RCU/s and the table's read units).
 * - search (functions/messages/searching.ts): a member's `search`, one Query per room and word on the word's key
 *   (≤ 40 entries of ~100 B: 1 RCU each).
 * - broadcasts (functions/broadcast): an admin's announcement to every connection, PutEvents and the rule, then
 *   posted in the fan-out's chunks, each reserving its posts in the posting budget (FanoutPostsPerSecond) and
 *   waiting up to its patience for a second with room, then dropped.
 * - push (functions/push/notify.ts): a message that mentions someone (`mentionShare`) is one the push rule matches
 *   (featureTraffic.ts); a mentioned person with no live connection (`offlineShare`) gets one Web Push post to the
 *   browser's push service: neither API Gateway's requests nor the posting budget, counted on its own.
 * - ssm (functions/platform/settings.ts): each new Lambda environment reads the settings document from Parameter
 *   Store (GetParameter, 40/s at standard throughput) on its first invocation, and again each 60 s while it serves.
 * - departures: a leave's `Departed` event, PutEvents and the rule LeaveRooms, and the departure machine's start
 *   (expressStarts.ts), counted on `joins`.
 * Left out: the sessions' records, the departure machine's work after its start (its wait, then Deliver's settle),
 * environments of the functions the model does not invoke (the features' routes run none: their cold starts' reads
 * are not counted).
 */
import { keyLevelFor, ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { GATEWAY, LIMITS } from '#protocol';
import { DEFAULT_TYPING_HEARTBEAT_MS } from '../../client/typing';
import { WORD_QUERY_READ_UNITS } from '../cost/search';
import type { Latency } from '../local/awsProfile';
import type { FeatureTraffic, RoomView, TrafficContext } from './featureTraffic';
import type { PerSecond } from './quotas';

/** How members use the rest (each a client default, a handler's constant, or an assumption PERFORMANCE.md names). */
export interface ExtraMix {
  /** How long a member types a message at most (assumption); its own sending interval bounds it. */
  composeMs: number;
  /** A typist's heartbeat (client/typing.ts), and a quiet connection's ping (client/core.ts: the idle timeout less 60 s). */
  heartbeatMs: number;
  keepaliveMs: number;
  /** `history` calls per member per hour beyond its joins' pages (assumption), and a page's messages. */
  historyPerMemberPerHour: number;
  historyPage: number;
  /** `search` calls per member per hour (assumption), the words and rooms each reads. */
  searchesPerMemberPerHour: number;
  searchWords: number;
  searchRooms: number;
  /** One announcement to every connection per this many seconds across the account (assumption); 0: none. */
  broadcastEverySeconds: number;
  /**
   * Messages that mention someone (each one the push rule matches: protocol/push.ts mayPush), and a mentioned person
   * with no live connection (assumptions).
   */
  mentionShare: number;
  offlineShare: number;
  /** How long an environment keeps the settings document before reading it again (settings.ts). */
  settingsMaxAgeMs: number;
}

export const DEFAULT_EXTRA_MIX: ExtraMix = {
  composeMs: 10_000,
  heartbeatMs: DEFAULT_TYPING_HEARTBEAT_MS,
  keepaliveMs: GATEWAY.idleTimeoutMs - 60_000,
  historyPerMemberPerHour: 4,
  historyPage: LIMITS.historyDefault,
  searchesPerMemberPerHour: 1,
  searchWords: 2,
  searchRooms: 1,
  broadcastEverySeconds: 600,
  mentionShare: 0.1,
  offlineShare: 0.5,
  settingsMaxAgeMs: 60_000,
};

/** One item a handler writes: on a table's distinct keys, or on the room index's key of the room or the lobby. */
type ItemWrite = { table: string; units: number } | { index: 'room' | 'lobby'; units: number };

/**
 * A join: `$connect` puts the connection and its lobby subscription (with its index entry on a lobby key), and takes
 * the handshake's admission and the source's place (Limits); `joinroom` is one TransactWriteItems of four items at
 * 2 WCU each (the gate's ConditionCheck in Rooms, the connection's move, the room's subscription put, the lobby's
 * deleted), its index entry added on a room key and removed from a lobby key.
 */
export const JOIN_WRITES: readonly ItemWrite[] = [
  { table: 'LimitsTable', units: 2 },
  { table: 'ConnectionsTable', units: 1 },
  { table: 'SubscriptionsTable', units: 1 },
  { index: 'lobby', units: 1 },
  { table: 'RoomsTable', units: 2 },
  { table: 'ConnectionsTable', units: 2 },
  { table: 'SubscriptionsTable', units: 4 },
  { index: 'room', units: 1 },
  { index: 'lobby', units: 1 },
];

/**
 * A leave (`$disconnect`): the departure's record and the place's release (Limits), the connection's delete, the
 * subscription's delete with its index entry on a room key.
 */
export const LEAVE_WRITES: readonly ItemWrite[] = [
  { table: 'LimitsTable', units: 2 },
  { table: 'ConnectionsTable', units: 1 },
  { table: 'SubscriptionsTable', units: 1 },
  { index: 'room', units: 1 },
];

/** A strongly consistent read's unit; a Scan (eventually consistent) reads two of them per unit. */
const READ_UNIT_BYTES = 4096;
/** A connection item's bytes, as the everyone-broadcast's Scan reads it (assumption: ids, name, times, counts). */
const CONNECTION_ITEM_BYTES = 400;

/** What the model lends the rest: the features' context and counts, and the meters only this traffic meets. */
export interface ExtraContext {
  traffic: TrafficContext;
  features: FeatureTraffic;
  /** This traffic's own draws (the messages' and the features' streams stay as they are). */
  random: () => number;
  draw: (latency: Latency) => number;
  /** A read of `units` on one key, its partition's and its table's read units: false when refused. */
  read(key: string, at: number, units: number): boolean;
  /** Read units on a table alone (a Scan over its partitions): false when refused. */
  tableRead(table: string, at: number, units: number): boolean;
  ssm: PerSecond;
  lambdas: { onCold?: (fn: string, at: number) => void };
  /** The fan-out's chunks (the template's) and a message's bytes. */
  settings: {
    chunkSize: number;
    chunksAtOnce: number;
    postsInFlight: number;
    budgetPatienceMs: number;
    messageBytes: number;
  };
  /** Messages a second each room's members send together (the load's). */
  rate: number;
  /** The end of the sending: nothing of this traffic starts after it. */
  until: number;
}

export class ExtraTraffic {
  constructor(
    private readonly c: ExtraContext,
    private readonly mix: ExtraMix = DEFAULT_EXTRA_MIX,
  ) {
    c.features.onChange = (room, join) => this.changed(room, join);
    c.features.mayPush = () => this.c.random() < this.mix.mentionShare;
    c.features.onPush = () => this.pushed();
    c.lambdas.onCold = (_fn, at) => this.settingsRead(at);
  }

  /** A message about to be sent: its typist's heartbeats past the first, while it composes. */
  typed(room: RoomView): void {
    const { clock } = this.c.traffic;
    // A member types no longer than between its own sends.
    const ownIntervalMs = this.c.rate > 0 ? (room.members / this.c.rate) * 1000 : this.mix.composeMs;
    const composing = Math.min(this.mix.composeMs, ownIntervalMs);
    const beats = Math.max(0, Math.ceil(composing / this.mix.heartbeatMs) - 1);
    for (let k = 1; k <= beats; k++) {
      const at = clock.now + k * this.mix.heartbeatMs;
      if (at < this.c.until) clock.at(at, () => this.c.features.typingFrame(room, 'heartbeats'));
    }
  }

  /**
   * Each member's keep-alive, its phase drawn, from now to `until`: a `ping` when its room had no news since its last
   * tick (a member with news marks it read, a frame that restarts its keep-alive clock).
   */
  startKeepalive(rooms: readonly RoomView[]): void {
    const { clock } = this.c.traffic;
    const { random } = this.c;
    const every = this.mix.keepaliveMs;
    for (const room of rooms)
      for (let member = 0; member < room.members; member++) {
        // Under a load the room had news before the run, which the member marked read: its first tick sends nothing.
        let seen = this.c.rate > 0 ? -1 : room.head;
        const tick = () => {
          if (clock.now >= this.c.until) return;
          clock.at(clock.now + every, tick);
          if (room.head !== seen) {
            seen = room.head;
            return;
          }
          this.c.features.request('heartbeats', 'ping');
        };
        clock.at(clock.now + random() * every, tick);
      }
  }

  /** A member's accepted join or leave: its items and index entries, and a join's `joined` page. */
  private changed(room: RoomView, join: boolean): void {
    const { clock, latency: L } = this.c.traffic;
    const { draw } = this.c;
    const at = clock.now + draw(L.lambdaInvoke) + draw(L.dynamodbItem);
    for (const w of join ? JOIN_WRITES : LEAVE_WRITES) this.itemWrite(room, w, at);
    if (join) this.page(room, at);
    else this.departed(at);
  }

  /**
   * A leave's `Departed` event (departure.ts publishDeparture: one per connection that followed a room), the rule
   * LeaveRooms, and its StartExecution of the departure machine. Its hops at their p50 (a count of starts, not a
   * receipt's time; no draw, so the other streams stay as they are); a PutEvents refused is not retried here.
   */
  private departed(at: number): void {
    const { putEvents, ruleInvocations, expressStarts, latency: L } = this.c.traffic;
    const { features } = this.c;
    features.add('joins', 'putEvents');
    if (!putEvents.take(at)) return;
    const invoked = at + L.eventBridgePutEvents.p50 + L.eventBridgeToTarget.p50;
    features.add('joins', 'ruleInvocations');
    ruleInvocations.take(invoked);
    expressStarts.start('departure', invoked);
  }

  private itemWrite(room: RoomView, w: ItemWrite, at: number): void {
    const { features, traffic, random } = this.c;
    if ('table' in w) {
      features.add('joins', 'writeUnits', w.units);
      traffic.tableWrite(w.table, at, w.units);
      return;
    }
    // The entry's key: one of the room's keys at its level (roomMembers.ts), or of the lobby's twelve.
    const shards = w.index === 'room' ? keyLevelFor(room.members) : ROOM_INDEX_SHARDS;
    const owner = w.index === 'room' ? String(room.id) : 'lobby';
    features.write('joins', `subscribers#${owner}#${Math.floor(random() * shards)}`, at, w.units);
  }

  /** Members' `history` calls and `search` calls, each a Poisson stream per room, from now to `until`. */
  startReads(rooms: readonly RoomView[]): void {
    for (const room of rooms) {
      this.stream(room.members * this.mix.historyPerMemberPerHour, () => {
        if (this.c.features.request('history', 'history'))
          this.page(room, this.c.traffic.clock.now + this.c.draw(this.c.traffic.latency.lambdaInvoke));
      });
      this.stream(room.members * this.mix.searchesPerMemberPerHour, () => this.search(room));
    }
  }

  /** Calls at `perHour` an hour, a Poisson stream until the sending ends. */
  private stream(perHour: number, call: () => void): void {
    if (perHour <= 0) return;
    const { clock } = this.c.traffic;
    const { random } = this.c;
    const next = () => {
      const at = clock.now + (-Math.log(random()) * 3_600_000) / perHour;
      if (at >= this.c.until) return;
      clock.at(at, () => {
        call();
        next();
      });
    };
    next();
  }

  /**
   * Members the fan-out could not reach (their resync frame or note: functions/deliver/resyncs.ts) each read what they
   * missed: a `history` call on its route's bucket and the account's requests, and a page of the room's messages (an
   * upper bound: a gap is often shorter), on the Messages table's read units (the room is not known here, so no key).
   */
  resynced(at: number, members: number): void {
    const { clock } = this.c.traffic;
    const units = Math.ceil((this.mix.historyPage * this.c.settings.messageBytes) / READ_UNIT_BYTES);
    clock.at(Math.max(at, clock.now), () => {
      for (let i = 0; i < members; i++) {
        if (!this.c.features.request('resyncs', 'history')) continue;
        this.c.features.add('resyncs', 'readUnits', units);
        this.c.tableRead('MessagesTable', clock.now, units);
      }
    });
  }

  /** A page of the room's messages: one strongly consistent Query of its partition. */
  private page(room: RoomView, at: number): void {
    const units = Math.ceil((this.mix.historyPage * this.c.settings.messageBytes) / READ_UNIT_BYTES);
    this.c.features.add('history', 'readUnits', units);
    this.c.read(`messages#${room.id}`, at, units);
  }

  private search(room: RoomView): void {
    const { clock, latency: L } = this.c.traffic;
    const { draw } = this.c;
    if (!this.c.features.request('search', 'search')) return;
    const at = clock.now + draw(L.lambdaInvoke);
    // Every word key of the room is read alike: the room's word key stands for each (as the index's writes).
    for (let i = 0; i < this.mix.searchRooms * this.mix.searchWords; i++) {
      this.c.features.add('search', 'readUnits', WORD_QUERY_READ_UNITS);
      this.c.read(`words#${room.id}`, at, WORD_QUERY_READ_UNITS);
    }
  }

  /** Announcements to every connection of `rooms`, a Poisson stream across the account until the sending ends. */
  startBroadcasts(rooms: readonly RoomView[]): void {
    if (this.mix.broadcastEverySeconds <= 0) return;
    const connections = rooms.reduce((n, r) => n + r.members, 0);
    this.stream(3600 / this.mix.broadcastEverySeconds, () => this.broadcast(connections));
  }

  private broadcast(connections: number): void {
    const { traffic, features, settings: s } = this.c;
    const { clock, latency: L, putEvents } = traffic;
    const { draw } = this.c;
    // POST /broadcast on its REST API (BroadcastApi): none of the WebSocket stage's buckets or requests.
    features.add('broadcasts', 'requests');
    features.add('broadcasts', 'putEvents');
    if (!putEvents.take(clock.now)) return;
    traffic.ruleTarget(clock.now + draw(L.eventBridgePutEvents), () => {
      features.add('broadcasts', 'ruleInvocations');
      // The rule's StartExecution of BroadcastStateMachine, retried when throttled; given up, the event is
      // dead-lettered and no one is told.
      const started = traffic.expressStarts.start('broadcast', clock.now);
      if (started === undefined) return;
      // The connections table Scanned (BroadcastStateMachine), then the fan-out's chunks, `chunksAtOnce` at a time,
      // each wave as long as a chunk's posts in flight take.
      const scanned = Math.ceil((connections * CONNECTION_ITEM_BYTES) / READ_UNIT_BYTES) / 2;
      features.add('broadcasts', 'readUnits', scanned);
      this.c.tableRead('ConnectionsTable', started, scanned);
      const start = started + draw(L.stepFunctionsTransition) + draw(L.dynamodbQuery);
      const waveMs = Math.ceil(s.chunkSize / s.postsInFlight) * L.managementPost.p50;
      const chunks = Math.ceil(connections / s.chunkSize);
      for (let i = 0; i < chunks; i++) {
        const n = Math.min(s.chunkSize, connections - i * s.chunkSize);
        this.chunk(n, start + Math.floor(i / s.chunksAtOnce) * waveMs, start + s.budgetPatienceMs);
      }
    });
  }

  /** A chunk's reservation in the posting budget: its posts now, else in a later second within its patience. */
  private chunk(n: number, at: number, giveUpAt: number): void {
    const { clock, postBudget } = this.c.traffic;
    const { random } = this.c;
    clock.at(at, () => {
      if (postBudget.usedIn(at) + n <= postBudget.limit) {
        this.c.features.post('broadcasts', at, n, true);
        return;
      }
      const next = (Math.floor(at / 1000) + 1) * 1000 + random() * 100;
      if (next > giveUpAt) this.c.features.post('broadcasts', at, n, true);
      else this.chunk(n, next, giveUpAt);
    });
  }

  /** A push invocation (a message that mentions someone): a mentioned person with no live connection gets one post. */
  private pushed(): void {
    if (this.c.random() < this.mix.offlineShare) this.c.features.add('push', 'posts');
  }

  /** A new environment's settings read, then one each cache age while the load lasts. */
  private settingsRead(at: number): void {
    const { clock } = this.c.traffic;
    const read = (t: number) => {
      this.c.features.add('ssm', 'requests');
      if (!this.c.ssm.take(t)) this.c.features.add('ssm', 'refused');
    };
    read(at);
    for (let t = at + this.mix.settingsMaxAgeMs; t < this.c.until; t += this.mix.settingsMaxAgeMs)
      clock.at(t, () => read(t));
  }
}
