/**
 * The chat's traffic besides its messages, in the model of the fan-out (tools/bench/awsModel.ts): typing, read
 * positions, presence, search's word index and the push rule. Each is what its handler does, counted against the
 * quotas the messages meet (their route's bucket, the account's 10,000 requests/s with `@connections` posts, the
 * posting budget, DynamoDB's write units per key and per table, PutEvents and rule invocations), so a load's row names
 * the quota that binds first with every feature in it. Per feature (docs/DECISIONS.md, "Every feature at AWS's scale"):
 * - typing (functions/typing/relay.ts): one `typing` frame per message (the first keystroke after the sender's ack,
 *   client/typing.ts); the connection's mark (1 WCU), a budget reservation at typing's ceiling (1 WCU), and one post
 *   to each other member of a room of at most TypingMaxMembers; no room in the budget: dropped.
 * - reads (functions/reading): each member's `markread` at most once per `readIntervalMs` (client/readPositions.ts)
 *   while its room has news; the position's UpdateItem (1 WCU); in a room of at most SeenByMaxMembers a `Seen` event
 *   (PutEvents, RoomEventsRule, the room's group) posted to every member; a `read` post to each other device.
 * - presence (core/identity/dynamoPresence.ts, tools/bench/presence.ts): members come and go once per session, a join
 *   `$connect` and `joinroom`, a leave `$disconnect`; each change writes the room's board (1 WCU on one key); the
 *   change that opens a board publishes a `Presence` event, and the fan-out's take of the board posts every member one
 *   frame: one frame per member per turn, however many changes the turn holds.
 * - words (functions/search/indexing.ts): a room's turn that posted messages puts each message's words, 1 WCU each,
 *   every word a key of its own (`roomId#word`): a word every message holds takes one write per message on its key.
 * - push (functions/push/onMessage.ts): PushOnMessageRule matches only a `MessageSent` marked `mayPush` (a mention, a
 *   direct message, a thread reply: protocol/push.ts mayPush), one invocation of the push function each; any other
 *   message costs the rule nothing. Which messages may push is the mix's (extraTraffic.ts `mentionShare`).
 * The rest of the chat's traffic (heartbeats and keep-alive pings, a join's and a leave's own writes, history and
 * search reads, broadcasts, push posts, Parameter Store reads) is extraTraffic.ts's, counted on these same rows.
 * Left out: the executions a `Seen` or `Presence` event starts (their posts are counted, the Deliver calls and
 * transitions are not).
 */
import { budgetShares, TYPING_BUDGET_CEILING } from '#deliver/postBudget';
import { SETTINGS } from '#platform/settingsSchema';
import { readIntervalFor } from '#protocol';
import type { AwsProfile, Latency } from '../local/awsProfile';
import type { ExpressStarts } from './expressStarts';
import { PerSecond, type QuotaUse, quotaUse } from './quotas';
import type { RouteBuckets } from './routeThrottles';
import type { Clock } from './simulation';
import { indexEntries, TYPICAL_TEXT } from './typicalText';

/** Every kind of traffic beside the messages: this file's five, then extraTraffic.ts's. */
export const FEATURES = [
  'typing',
  'reads',
  'presence',
  'words',
  'push',
  'heartbeats',
  'joins',
  'history',
  'resyncs',
  'search',
  'broadcasts',
  'ssm',
] as const;
export type Feature = (typeof FEATURES)[number];

/** One feature's traffic over a run's measured seconds. */
export interface FeatureCount {
  /** WebSocket requests on its routes, and those refused (429: the route's bucket or the account's requests/s). */
  requests: number;
  refused: number;
  /** Posts to connections, and those not made (no room in the posting budget, or the account's requests/s). */
  posts: number;
  dropped: number;
  /** DynamoDB write units, and read units. */
  writeUnits: number;
  readUnits: number;
  putEvents: number;
  ruleInvocations: number;
}

/** How members use the features (each a client default or an assumption, docs/DECISIONS.md says which). */
export interface TrafficMix {
  /** `typing` frames per message sent: the first keystroke after the sender's last ack (client/typing.ts). */
  typingPerMessage: number;
  /**
   * 0 (the client as it is): every message's first keystroke sends, the ack having reset the typist's heartbeat. A
   * positive value models a client thinned to one heartbeat per typist per this many ms (`--typing-thinned`:
   * TypingIntervalSeconds), a message's frame sent only when its typist's last one is that old.
   */
  typingThinnedMs: number;
  /** A member's `markread` at most this often while its room has news (client readIntervalMs, 5 s; longer in a big room). */
  readIntervalMs: number;
  /** Each member's other connected devices, each told a moved read (functions/reading/devices.ts). */
  otherDevices: number;
  /** A member's stay in a room: one join and one leave per this many minutes. */
  sessionMinutes: number;
  /** Index entries per message: the typical text with its number, words and stems (typicalText.ts). */
  wordsPerMessage: number;
  typingMaxMembers: number;
  seenByMaxMembers: number;
}

export const DEFAULT_MIX: TrafficMix = {
  typingPerMessage: 1,
  typingThinnedMs: 0,
  readIntervalMs: 5000,
  otherDevices: 1,
  sessionMinutes: 30,
  wordsPerMessage: indexEntries(`${TYPICAL_TEXT} 1`),
  typingMaxMembers: SETTINGS.TypingMaxMembers.default,
  seenByMaxMembers: SETTINGS.SeenByMaxMembers.default,
};

/** What the model lends the features: its clock and draws, and the meters its messages meet. */
export interface TrafficContext {
  clock: Clock;
  random: () => number;
  draw: (latency: Latency) => number;
  latency: AwsProfile['latency'];
  routes: RouteBuckets;
  apiGateway: PerSecond;
  postBudget: PerSecond;
  putEvents: PerSecond;
  ruleInvocations: PerSecond;
  /** Express executions started by machine (the departure and broadcast machines', here). */
  expressStarts: ExpressStarts;
  /** A rule's target invoked for an event accepted at `accepted` (delayed past the Region's rule invocations). */
  ruleTarget(accepted: number, then: () => void): void;
  /** SendMessage to the room's message group at `at`: false when refused. */
  groupCall(room: number, at: number): boolean;
  /** A DynamoDB write of `units` on one key, with the SDK's retries: when it succeeded, or undefined. */
  write(key: string, at: number, units: number): number | undefined;
  /** Write units on a table alone (items of distinct keys): false when the table refused them. */
  tableWrite(table: string, at: number, units: number): boolean;
  /** The moment the measured seconds start: nothing before it is counted. */
  measureFrom: number;
}

/** A room as the features see it: its members and the seq of its latest message. */
export interface RoomView {
  id: number;
  members: number;
  head: number;
}

const emptyCount = (): FeatureCount => ({
  requests: 0,
  refused: 0,
  posts: 0,
  dropped: 0,
  writeUnits: 0,
  readUnits: 0,
  putEvents: 0,
  ruleInvocations: 0,
});

/** The features' traffic in one run. */
export class FeatureTraffic {
  readonly counts = Object.fromEntries(FEATURES.map((f) => [f, emptyCount()])) as Record<
    Feature,
    FeatureCount
  >;
  private readonly boards = new Set<number>();
  private readonly budgetShards: number;
  /** Typing's share of the posting budget (TYPING_BUDGET_CEILING of each second's): its refusals, typing's drops. */
  private readonly typingShare: PerSecond;
  /** Thinned typing (TrafficMix.typingThinnedMs): each typist's last frame, by `room#member`. */
  private readonly typingAt = new Map<string, number>();
  /** Told of each member's accepted join or leave (extraTraffic.ts: its own writes and reads). */
  onChange?: (room: RoomView, join: boolean) => void;
  /** Told of each push function's invocation (extraTraffic.ts: the pushes it sends). */
  onPush?: () => void;
  /**
   * Whether a message stored now may push (extraTraffic.ts: it mentions someone); unset, none may: the model's text
   * holds no `@`, and its rooms are neither direct messages nor threads.
   */
  mayPush?: () => boolean;

  constructor(
    private readonly ctx: TrafficContext,
    private readonly mix: TrafficMix = DEFAULT_MIX,
  ) {
    this.budgetShards = budgetShares(ctx.postBudget.limit).length;
    this.typingShare = new PerSecond(ctx.postBudget.limit * TYPING_BUDGET_CEILING);
  }

  /** The features' own quotas: typing's share of the posting budget. */
  quotaUses(from = 0): QuotaUse[] {
    return [quotaUse("posting budget, typing's share", this.typingShare.limit, [this.typingShare], from)];
  }

  /** Adds to a feature's count, from the measured seconds on. */
  add(feature: Feature, what: keyof FeatureCount, n = 1): void {
    if (this.ctx.clock.now >= this.ctx.measureFrom) this.counts[feature][what] += n;
  }

  /** A request on `route` now: its bucket, then the account's requests/s. */
  request(feature: Feature, route: string): boolean {
    const now = this.ctx.clock.now;
    this.add(feature, 'requests');
    if (this.ctx.routes.take(route, now) && this.ctx.apiGateway.take(now)) return true;
    this.add(feature, 'refused');
    return false;
  }

  /** A DynamoDB write on `key`, counted; when it succeeded, or undefined. */
  write(feature: Feature, key: string, at: number, units = 1): number | undefined {
    this.add(feature, 'writeUnits', units);
    return this.ctx.write(key, at, units);
  }

  /**
   * `n` posts at `at`, each one of the account's requests; `budget`: reserved in the posting budget first, typing's
   * only while the second's budget stays within typing's share (counted as that share's refusal, not the budget's).
   */
  post(feature: Feature, at: number, n: number, budget: boolean): void {
    if (n <= 0) return;
    const { postBudget, apiGateway } = this.ctx;
    const typing = feature === 'typing' || feature === 'heartbeats';
    if (typing) {
      if (postBudget.usedIn(at) + n > this.typingShare.limit) {
        this.typingShare.refuse(at);
        this.add(feature, 'dropped', n);
        return;
      }
      this.typingShare.take(at, n);
    }
    if (budget && !postBudget.take(at, n)) {
      this.add(feature, 'dropped', n);
      return;
    }
    for (let i = 0; i < n; i++) {
      if (apiGateway.take(at)) this.add(feature, 'posts');
      else this.add(feature, 'dropped');
    }
  }

  /** A message about to be sent in `room`: its sender's `typing` frame, relayed to the others (relay.ts). */
  typed(room: RoomView): void {
    const every = this.mix.typingThinnedMs;
    if (every > 0) {
      // Thinned: the typist (a member drawn) sends only when its last frame is a heartbeat's interval old.
      const typist = Math.floor(this.ctx.random() * room.members);
      const key = `${room.id}#${typist}`;
      const last = this.typingAt.get(key);
      if (last !== undefined && this.ctx.clock.now - last < every) return;
      this.typingAt.set(key, this.ctx.clock.now);
      this.typingFrame(room, 'typing', typist);
      return;
    }
    for (let i = 0; i < this.mix.typingPerMessage; i++) this.typingFrame(room, 'typing');
  }

  /**
   * One `typing` frame now (a first keystroke, or a heartbeat: extraTraffic.ts), relayed as relay.ts does, from
   * `given` typist (a member drawn when not given).
   */
  typingFrame(room: RoomView, feature: Feature, given?: number): void {
    const { draw, latency: L, clock } = this.ctx;
    if (!this.request(feature, 'typing')) return;
    // The connection's read, then the heartbeat's mark on the typist's connection item.
    const typist = given ?? Math.floor(this.ctx.random() * room.members);
    const marked = this.write(
      feature,
      `connection#${room.id}#${typist}`,
      clock.now + draw(L.lambdaInvoke) + draw(L.dynamodbItem),
    );
    if (marked === undefined || room.members > this.mix.typingMaxMembers) return;
    // The room's members (one Query), then the posting budget at typing's ceiling, on one of its shards.
    const at = marked + draw(L.dynamodbQuery);
    const shard = Math.floor(this.ctx.random() * this.budgetShards);
    this.write(feature, `post-budget#${Math.floor(at / 1000)}#${shard}`, at);
    this.post(feature, at + draw(L.dynamodbItem), room.members - 1, true);
  }

  /**
   * A message stored: PushOnMessageRule invokes the push function only for one that may push (the rule's pattern,
   * template.yaml `mayPush: [true]`), so the rest cost no rule invocation.
   */
  pushed(accepted: number): void {
    if (!this.mayPush?.()) return;
    this.ctx.ruleTarget(accepted, () => {
      this.add('push', 'ruleInvocations');
      this.onPush?.();
    });
  }

  /** A room's turn posted `messages`: IndexWords puts their entries (words and stems), each key one write per message. */
  indexed(room: RoomView, messages: number, at: number): void {
    if (messages <= 0) return;
    const words = this.mix.wordsPerMessage;
    const t = at + this.ctx.draw(this.ctx.latency.lambdaInvoke);
    // Every word key of the room takes the same writes (the typical text's words in every message): one stands for all.
    this.write('words', `words#${room.id}`, t, messages);
    this.add('words', 'writeUnits', (words - 1) * messages);
    this.ctx.tableWrite('WordsTable', t, (words - 1) * messages);
  }

  /**
   * Each member's `markread` once per its room's interval (readIntervalMs, longer in a big room: the client's
   * readIntervalFor; its phase drawn) while its room has news, from now to `until`: the position's write, a `Seen`
   * to a small room, a `read` post to each other device.
   */
  startReads(rooms: readonly RoomView[], until: number): void {
    const { clock, random } = this.ctx;
    for (const room of rooms)
      for (
        let member = 0, every = readIntervalFor(room.members, this.mix.readIntervalMs);
        member < room.members;
        member++
      ) {
        let marked = room.head;
        const tick = () => {
          if (clock.now >= until) return;
          clock.at(clock.now + every, tick);
          if (room.head <= marked) return;
          marked = room.head;
          this.markRead(room, member);
        };
        clock.at(clock.now + random() * every, tick);
      }
  }

  private markRead(room: RoomView, member: number): void {
    const { draw, latency: L, clock } = this.ctx;
    if (!this.request('reads', 'markread')) return;
    // The connection, the room's head and (small rooms) its members side by side, then the position's UpdateItem.
    const read = clock.now + draw(L.lambdaInvoke) + Math.max(draw(L.dynamodbItem), draw(L.dynamodbQuery));
    const moved = this.write('reads', `membership#${room.id}#${member}`, read);
    if (moved === undefined) return;
    clock.at(moved, () => {
      // The person's other devices: one Query of the user index, one post each (no budget: devices.ts).
      this.post('reads', clock.now + draw(L.dynamodbQuery), this.mix.otherDevices, false);
      if (room.members <= this.mix.seenByMaxMembers)
        this.roomEvent('reads', room.id, clock.now, (at) => {
          if (at !== undefined) this.post('reads', at, room.members, true);
        });
    });
  }

  /**
   * Members coming and going (one join and one leave per member per session, a Poisson stream per room) from now to
   * `until`: each change's requests and board write; the change that opens the board publishes its `Presence`, and
   * the take posts every member one frame.
   */
  startPresence(rooms: readonly RoomView[], until: number): void {
    const { clock, random } = this.ctx;
    for (const room of rooms) {
      const perSecond = (2 * room.members) / (this.mix.sessionMinutes * 60);
      let join = true;
      const next = () => {
        const at = clock.now + (-Math.log(random()) * 1000) / perSecond;
        if (at >= until) return;
        clock.at(at, () => {
          this.change(room, join);
          join = !join;
          next();
        });
      };
      next();
    }
  }

  private change(room: RoomView, join: boolean): void {
    const { draw, latency: L, clock } = this.ctx;
    const routes = join ? ['$connect', 'joinroom'] : ['$disconnect'];
    if (!routes.every((route) => this.request('presence', route))) return;
    this.onChange?.(room, join);
    const written = this.write(
      'presence',
      `presence#${room.id}`,
      clock.now + draw(L.lambdaInvoke) + draw(L.dynamodbItem),
    );
    if (written === undefined || this.boards.has(room.id)) return;
    this.boards.add(room.id);
    clock.at(written, () =>
      this.roomEvent('presence', room.id, clock.now, (at) => {
        if (at === undefined) {
          // Its event refused: the board waits for the room's next wake (left open here, taken by the next change).
          this.boards.delete(room.id);
          return;
        }
        // The take: the board whole, one frame to each member.
        clock.at(at, () => {
          this.boards.delete(room.id);
          this.post('presence', at, room.members, true);
        });
      }),
    );
  }

  /**
   * A room event with no seq (`Seen`, `Presence`): PutEvents, RoomEventsRule, SendMessage to the room's group, then
   * (the room's execution, its Prepare) `then` with the moment its posts start; refused: `then` with none.
   */
  private roomEvent(
    feature: Feature,
    room: number,
    at: number,
    then: (postsAt: number | undefined) => void,
  ): void {
    const { putEvents, draw, latency: L } = this.ctx;
    this.add(feature, 'putEvents');
    if (!putEvents.take(at)) {
      then(undefined);
      return;
    }
    const accepted = at + draw(L.eventBridgePutEvents);
    this.ctx.ruleTarget(accepted, () => {
      this.add(feature, 'ruleInvocations');
      const now = this.ctx.clock.now;
      // Refused: EventBridge retries it (not modelled here), the members left without this frame.
      if (!this.ctx.groupCall(room, now)) {
        then(undefined);
        return;
      }
      then(now + draw(L.sqsCall) + draw(L.pipesSqsPoll) + draw(L.lambdaInvoke) + draw(L.dynamodbItem));
    });
  }
}
