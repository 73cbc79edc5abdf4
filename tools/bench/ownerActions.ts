/**
 * `npm run bench -- --aws-profile aws --model owners`: an owner's or a moderator's actions in one big room
 * (removemember, ban, mute, rotatekey, slowmode, closeroom), on the model of the stack on AWS (tools/bench/awsModel.ts).
 * Each action is the route's own calls, counted from its code (ownerRoutes.ts) and drawn from the AWS profile's
 * latencies as the send path draws a message's, then its one room event through the fan-out the model already runs
 * (modelPosting.ts: the index's keys, chunks of FanoutChunkSize, Deliver's invokes, the posting budget, the account's
 * requests a second). Reported: the route's answer against its deadlines, when the person acted on is told on its
 * every connection, the time until the room's last member is told, and for `closeroom` until the last one is moved to
 * the lobby (deliver/post.ts moveOutIfClosed: four item writes a member, MOVES_AT_ONCE of a chunk at once, each write
 * within DynamoDB's units per key and per table), each with the quota that binds; and each hop's calls against their
 * quotas (the room index's read units per key, the posts against the account's requests a second, the fan-out's Map
 * concurrency and a chunk's state).
 *
 * Approximations: the route's Lambda is warm (a cold start adds RoomsFunction's init once) and reads no settings, and
 * so are Deliver's environments (from cold, each chunk's first invoke adds Deliver's init once); a Query page costs
 * one draw whatever it holds (a shard's entries fit in one 1 MB page up to 5,242), and the route's own time between
 * calls (parsing the room index's entries, in a function of 256 MB) is not drawn; the room is otherwise quiet; a
 * move's index write is counted on its index key and the index's units beside its item's.
 */
import { keyLevelFor, ROOM_INDEX_SHARDS, roomIndexShard } from '#core/aws/roomMembers';
import { ROUTE_SECONDS } from '#core/features';
import { MOVES_AT_ONCE } from '#deliver/post';
import { type AwsProfile, latencyMs } from '../local/awsProfile';
import { DEFAULT_INTEGRATION_TIMEOUT_MS } from '../local/gateway/stage';
import { type Message, Posting } from './modelPosting';
import type { Design, ModelSettings } from './modelSettings';
import { setUpModel } from './modelSetup';
import { callsOf, indexReadUnits, OWNER_ACTIONS, type OwnerAction, type Route, routeOf } from './ownerRoutes';
import { bindingQuota, describeBinding, type QuotaUse } from './quotas';
import { seededRandom } from './simulation';
import { percentile } from './stats';

export { OWNER_ACTIONS, type OwnerAction } from './ownerRoutes';

/** The room sizes the table shows, the seeds each row runs (one action a seed), and the route draws' own stream. */
export const OWNER_ROOMS = [1_000, 10_000];
export const OWNER_SEEDS = 20;
const ROUTE_SEED = 15_485_863;
/** A chunk's entry in the fan-out's state (`connectionId`, `username` as JSON): an estimate. */
const CHUNK_ENTRY_BYTES = 80;
/** A room frame an owner's action publishes (keyrotated, slowmode, roomclosed, a presence leave) as JSON: an estimate. */
const FRAME_BYTES = 300;
/** Step Functions' largest state, input or output (256 KiB; Step Functions quotas). Exported for tests. */
export const STATE_MAX_BYTES = 256 * 1024;

/** When each step of a route ends, drawn from the profile (ms from the route's invoke). */
function stepEnds(route: Route, profile: AwsProfile, random: () => number): number[] {
  let t = 0;
  return route.steps.map((step) => {
    t += Math.max(
      ...step.chains.map((c) => c.reduce((n, call) => n + latencyMs(profile.latency[call], random), 0)),
    );
    return t;
  });
}

/** A figure over the seeds: its median and 99th percentile (ms). */
export interface Spread {
  p50: number;
  p99: number;
}

export interface OwnerResult {
  action: OwnerAction;
  members: number;
  seeds: number;
  /** The route's answer, from its invoke to its reply (ms), over the seeds. */
  answer: Spread;
  /** The deadlines it answers within (s): the route's own, its function's Timeout, API Gateway's integration. */
  routeSeconds: number;
  functionTimeoutSeconds: number;
  integrationSeconds: number;
  /** The person acted on (removemember, ban, mute): its connections told, and when the last one is (ms). */
  personPosts: number;
  personTold?: Spread;
  /** Frames each member is told through the fan-out, and the fan-out's posts of one action (members told × frames). */
  frames: number;
  posts: number;
  /** From the route's invoke to the last member's last post (ms), over the seeds, and the quota that binds. */
  lastTold?: Spread;
  toldBinds: string;
  /** closeroom: until the last member is moved (ms), the moves refused past the SDK's retries, the quota that binds. */
  lastMoved?: Spread;
  movesFailed?: number;
  movedBinds?: string;
  /** The route's whole reads of the room index, their read units (RRU) in all and on each key. */
  indexReads: number;
  indexReadUnits: number;
  indexReadUnitsPerKey: number;
  /** A chunk's iteration state in the fan-out (bytes, an estimate), where there is a fan-out. */
  chunkStateBytes?: number;
  /** Each hop's calls against their quotas, as the table prints them. */
  calls: string;
}

/** What one action's run needs: the profile, the stack's settings, the fan-out's design and its Timeout. */
export interface OwnerRun {
  profile: AwsProfile;
  settings: Partial<ModelSettings>;
  design: Design;
  functionTimeoutSeconds: number;
  seed: number;
  seeds?: number;
}

/** One action, one seed: its answer, its person told, its last post and last move, and the quotas' use. */
function runOnce(action: OwnerAction, members: number, run: OwnerRun, seed: number) {
  const route = routeOf(action, members);
  const ends = stepEnds(route, run.profile, seededRandom(seed + ROUTE_SEED));
  const answerMs = ends[ends.length - 1] ?? 0;
  const personToldMs = route.personTold === undefined ? undefined : ends[route.personTold];

  const st = setUpModel({
    design: run.design,
    scenario: { name: 'owners', rooms: 1, members, rate: 1, seconds: 1 },
    profile: run.profile,
    seed,
    settings: run.settings,
    traffic: false,
  });
  const { L, draw, transition, clock, meters } = st;
  // The route's own posts to the person acted on take the account's requests a second as the fan-out's do; its whole
  // reads of the room index take each key's read units (strongly consistent reads of the room's items are 1 unit).
  for (let i = 0; i < route.personPosts && personToldMs !== undefined; i++)
    meters.apiGateway.take(personToldMs);
  const reads = indexReadUnits(members);
  for (let r = 0; r < route.indexReads; r++)
    for (let key = 0; key < keyLevelFor(members); key++) {
      meters.readKeyQuota(`subscribers#room#${key}`).take(0, reads.perKey);
      meters.readTableQuota('SubscriptionsTable').take(0, reads.perKey);
    }
  // Deliver's environments warm, as a room this size keeps them between its messages: Prepare's, and one for each
  // chunk the room's fan-out runs at once (its keys' Map × its chunks' Map); none for an action without a room event.
  const warmed = route.publish === undefined ? 0 : st.keysAtOnce * st.chunksAtOnce + 1;
  const warm = Array.from({ length: warmed }, () => st.lambdas.invoke('DeliverFunction', 0));
  for (const w of warm) w?.end(0);
  const level = keyLevelFor(members);
  let moved = 0;
  let lastMoved = 0;
  let movesFailed = 0;
  // A member's four writes one after another, each with the SDK's retries; the lobby's put and the room's delete
  // also write the room index, on the lobby's key and the room's key.
  const moveOne = (at: number, connectionId: string) => {
    const keys = [
      `connection#${connectionId}`,
      `subscribers#lobby#${roomIndexShard(connectionId, ROOM_INDEX_SHARDS)}`,
      `subscribers#room#${roomIndexShard(connectionId, level)}`,
      `connection#${connectionId}`,
    ];
    let done: number | undefined = at;
    for (const [i, key] of keys.entries()) {
      done = st.write(key, done, 1);
      if (done === undefined) return undefined;
      if ((i === 1 || i === 2) && !meters.tableQuota('SubscriptionsTable').take(done, 1))
        st.refusals.dynamodbTable++;
    }
    return done;
  };
  const moveOut = (at: number, count: number) => {
    const slots: number[] = Array(Math.min(MOVES_AT_ONCE, count)).fill(at);
    for (let i = 0; i < count; i++) {
      const slot = slots.indexOf(Math.min(...slots));
      const from = slots[slot] as number;
      const done = moveOne(from, `c${moved++}`);
      if (done === undefined) movesFailed++;
      slots[slot] = done ?? from + draw(L.dynamodbItem);
    }
    const end = Math.max(...slots);
    lastMoved = Math.max(lastMoved, end);
    return end;
  };
  const posting = new Posting({
    design: run.design,
    s: st.s,
    draw,
    L,
    random: st.random,
    transition,
    keysAtOnce: st.keysAtOnce,
    chunksAtOnce: st.chunksAtOnce,
    apiGateway: meters.apiGateway,
    postBudget: meters.postBudget,
    putEvents: meters.putEvents,
    ruleInvocations: meters.ruleInvocations,
    expressStarts: meters.expressStarts,
    lambdas: st.lambdas,
    refusals: st.refusals,
    outcomes: st.outcomes,
    measureFrom: 0,
    sendEnd: st.end,
    tally: st.tally,
    ...(action === 'closeroom' && { moveOut }),
  });
  // The room's frames, all in the execution the one PutEvents starts (removemember's and ban's: the leave, from the
  // presence board, and the new key).
  const frames: Message[][] = Array.from({ length: route.frames }, (_, seq) => [
    { seq, sentAt: 0, takenAt: 0, posted: 0 },
  ]);
  // The event: the rule to the room's FIFO group, the pipe's poll, the execution, Prepare's reads, the room's posts.
  const publishedAt = route.publish === undefined ? undefined : ends[route.publish];
  if (publishedAt !== undefined)
    st.ruleTarget(publishedAt, () => {
      meters.groupQuota(0).take(clock.now);
      const received = clock.now + draw(L.sqsCall) + draw(L.pipesSqsPoll);
      const prepared =
        posting.deliverRead(received + transition()) + Math.max(draw(L.dynamodbQuery), draw(L.dynamodbItem));
      posting.postRoom({ members: route.told }, prepared + transition(), frames);
    });
  clock.runUntil(st.end);
  const uses = meters.uses(0, st.lambdas);
  const dynamoWrite = (u: QuotaUse) => u.name.startsWith('DynamoDB write');
  return {
    answerMs,
    personToldMs,
    lastToldMs: publishedAt === undefined ? undefined : st.tally.latency.max,
    posts: st.tally.posts,
    lastMovedMs: lastMoved,
    movesFailed,
    toldBinds: bindingQuota(uses.filter((u) => !dynamoWrite(u))),
    movedBinds: bindingQuota(uses.filter(dynamoWrite)),
    keysAtOnce: st.keysAtOnce,
    chunksAtOnce: st.chunksAtOnce,
    chunkSize: st.s.chunkSize,
    postsPerSecond: meters.apiGateway.limit,
    rcuPerKey: run.profile.quotas.dynamodbRcuPerKey.value,
    mapMax: run.profile.quotas.stepFunctionsInlineMapConcurrency.value,
  };
}

type Run = ReturnType<typeof runOnce>;

/** One figure's median and 99th percentile over the seeds' runs, rounded; undefined where the action has none. */
function spread(runs: Run[], pick: (r: Run) => number | undefined): Spread | undefined {
  const values = runs.map(pick).filter((v) => v !== undefined);
  if (values.length === 0) return undefined;
  return { p50: Math.round(percentile(values, 50)), p99: Math.round(percentile(values, 99)) };
}

/** The quota of the run that came nearest its limit (or refused most): what binds. */
const worst = (uses: (QuotaUse | undefined)[]) =>
  describeBinding(bindingQuota(uses.filter((u) => u !== undefined)));

/** A chunk's iteration in the fan-out carries its members and the room's frames (bytes, an estimate). */
const chunkState = (r: Run, frames: number) => r.chunkSize * CHUNK_ENTRY_BYTES + frames * FRAME_BYTES;

/** Each hop's calls against their quotas: the route's by kind, its index reads, its posts, the fan-out's. */
function callsText(action: OwnerAction, members: number, r: Run, posts: number): string {
  const route = routeOf(action, members);
  const c = callsOf(route);
  const reads = indexReadUnits(members);
  const keys = keyLevelFor(members);
  const routeCalls = [
    `${c.dynamodbItem ?? 0} item`,
    c.dynamodbQuery ? `${c.dynamodbQuery} Query` : '',
    c.dynamodbTransaction ? `${c.dynamodbTransaction} transaction` : '',
    c.eventBridgePutEvents ? `${c.eventBridgePutEvents} PutEvents` : '',
    c.managementPost ? `${c.managementPost} post` : '',
  ].filter(Boolean);
  const index =
    route.indexReads > 0
      ? `; index read ×${route.indexReads}: ${reads.total * route.indexReads} RRU, ${reads.perKey * route.indexReads}` +
        ` a key of ${r.rcuPerKey.toLocaleString('en-US')}/s`
      : '';
  if (posts === 0) return `route ${routeCalls.join(', ')}${index}`;
  // The Maps run keys × chunks, each within the quota.
  const stateBytes = chunkState(r, route.frames);
  return (
    `route ${routeCalls.join(', ')}${index}; fan-out ${posts.toLocaleString('en-US')} posts ` +
    `(${(posts / r.postsPerSecond).toFixed(1)} s of the account's ${r.postsPerSecond.toLocaleString('en-US')}/s), ` +
    `Map ${Math.min(keys, r.keysAtOnce)} keys × ${r.chunksAtOnce} chunks (each ≤ ${r.mapMax}), ` +
    `chunk state ${Math.round(stateBytes / 1024)} KiB of ${STATE_MAX_BYTES / 1024} KiB`
  );
}

/** An action in a room of `members`, over `run.seeds` seeds from `run.seed`. */
export function runOwnerAction(action: OwnerAction, members: number, run: OwnerRun): OwnerResult {
  const seeds = run.seeds ?? OWNER_SEEDS;
  const runs = Array.from({ length: seeds }, (_, i) => runOnce(action, members, run, run.seed + i));
  const route = routeOf(action, members);
  const first = runs[0] as Run;
  const lastTold = spread(runs, (r) => r.lastToldMs);
  const personTold = spread(runs, (r) => r.personToldMs);
  const lastMoved = action === 'closeroom' ? spread(runs, (r) => r.lastMovedMs) : undefined;
  return {
    action,
    members,
    seeds,
    answer: spread(runs, (r) => r.answerMs) as Spread,
    routeSeconds: ROUTE_SECONDS,
    functionTimeoutSeconds: run.functionTimeoutSeconds,
    integrationSeconds: DEFAULT_INTEGRATION_TIMEOUT_MS / 1000,
    personPosts: route.personPosts,
    ...(personTold && { personTold }),
    frames: route.frames,
    posts: first.posts,
    ...(lastTold && { lastTold }),
    toldBinds: worst(runs.map((r) => r.toldBinds)),
    ...(lastMoved && {
      lastMoved,
      movesFailed: runs.reduce((n, r) => n + r.movesFailed, 0),
      movedBinds: worst(runs.map((r) => r.movedBinds)),
    }),
    indexReads: route.indexReads,
    indexReadUnits: indexReadUnits(members).total * route.indexReads,
    indexReadUnitsPerKey: indexReadUnits(members).perKey * route.indexReads,
    ...(route.frames > 0 && { chunkStateBytes: chunkState(first, route.frames) }),
    calls: callsText(action, members, first, first.posts),
  };
}

const shown = (s: Spread | undefined) => (s === undefined ? '–' : `${s.p50} / ${s.p99}`);

/** Every action in each of OWNER_ROOMS, as a table, and each hop's calls under it. */
export function ownersTable(run: OwnerRun): { rows: OwnerResult[]; text: string } {
  const rows = OWNER_ACTIONS.flatMap((action) =>
    OWNER_ROOMS.map((members) => runOwnerAction(action, members, run)),
  );
  const head = [
    'action',
    'members',
    'answer p50/p99 ms',
    'person told p50/p99 ms',
    'posts',
    'last told p50/p99 ms',
    'told: binds',
    'last moved p50/p99 ms',
    'moved: binds',
  ];
  const lines = rows.map((r) => [
    r.action,
    r.members.toLocaleString('en-US'),
    shown(r.answer),
    r.personTold === undefined ? '–' : `${shown(r.personTold)} (${r.personPosts} connections)`,
    r.posts.toLocaleString('en-US'),
    shown(r.lastTold),
    r.toldBinds,
    r.lastMoved === undefined ? '–' : `${shown(r.lastMoved)} (${r.movesFailed} failed)`,
    r.movedBinds ?? '–',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  const first = rows[0];
  const calls = rows
    .filter((r) => r.members === OWNER_ROOMS[OWNER_ROOMS.length - 1])
    .map((r) => `${r.action} (${r.members.toLocaleString('en-US')}): ${r.calls}`);
  return {
    rows,
    text:
      `${[fmt(head), ...lines.map(fmt)].join('\n')}\n` +
      `(${first?.seeds} seeds a row, one action each; answer: from the route's invoke to its reply, against the route's ` +
      `${first?.routeSeconds} s, its function's Timeout ${first?.functionTimeoutSeconds} s and API Gateway's ` +
      `${first?.integrationSeconds} s; person told: its every connection told by the route itself; last told / ` +
      "moved: from the same invoke; the posting budget's refusals are chunks' reservations put off to its next " +
      'second, no post lost)\n' +
      `calls per hop:\n${calls.map((l) => `  ${l}`).join('\n')}`,
  };
}
