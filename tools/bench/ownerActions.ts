/**
 * `npm run bench -- --aws-profile aws --model owners`: an owner's `removemember` and `closeroom` in one big room, on
 * the model of the stack on AWS (tools/bench/awsModel.ts). Each action is the route's own calls, counted from its
 * code (functions/moderation/owners.ts and its ports) and drawn from the AWS profile's latencies as the send path
 * draws a message's, then its one room event through the fan-out the model already runs (modelPosting.ts: the index's keys,
 * chunks of FanoutChunkSize, Deliver's invokes, the posting budget, the account's requests a second). Reported: the
 * route's answer against its deadlines, the time until the room's last member is told, and for `closeroom` until
 * the last one is moved to the lobby (deliver/post.ts moveOutIfClosed: four item writes a member, MOVES_AT_ONCE of
 * a chunk at once, each write within DynamoDB's units per key and per table), each with the quota that binds.
 *
 * Approximations: the route's Lambda is warm (a cold start adds RoomsFunction's init once) and reads no settings, and
 * so are Deliver's environments (from cold, each chunk's first invoke adds Deliver's init once); a Query page costs
 * one draw whatever it holds (a shard's entries fit in one 1 MB page up to PAGE_ENTRIES); the removed member has one
 * connection in the room, signed in on one device; the room is otherwise quiet; a move's index write is counted on
 * its index key and the index's units beside its item's.
 */
import { keyLevelFor, ROOM_INDEX_SHARDS, roomIndexShard } from '#core/aws/roomMembers';
import { ROUTE_SECONDS } from '#core/features';
import { MOVES_AT_ONCE } from '#deliver/post';
import { type AwsProfile, type LatencyName, latencyMs } from '../local/awsProfile';
import { DEFAULT_INTEGRATION_TIMEOUT_MS } from '../local/gateway/stage';
import { type Message, Posting } from './modelPosting';
import type { Design, ModelSettings } from './modelSettings';
import { setUpModel } from './modelSetup';
import { bindingQuota, describeBinding, type QuotaUse } from './quotas';
import { seededRandom } from './simulation';
import { percentile } from './stats';

export type OwnerAction = 'removemember' | 'closeroom';

/** The room sizes the table shows, the seeds each row runs (one action a seed), and the route draws' own stream. */
export const OWNER_ROOMS = [1_000, 10_000];
export const OWNER_SEEDS = 20;
const ROUTE_SEED = 15_485_863;
/** A room index entry as a Query reads it (keys and `username`, with DynamoDB's per-item overhead): an estimate. */
const ENTRY_BYTES = 200;
/** Entries one Query page holds: DynamoDB stops a page at 1 MB read. */
const PAGE_ENTRIES = Math.floor((1024 * 1024) / ENTRY_BYTES);

/** One step of a route: calls side by side, each a chain of calls one after another; the slowest chain ends it. */
interface Step {
  what: string;
  chains: LatencyName[][];
}
const one = (what: string, ...calls: LatencyName[]): Step => ({ what, chains: [calls] });

/**
 * The route's calls in order, as its code makes them (the caller's frame counted first, core/websocket.ts; the
 * caller's connection then served from that count, guard.ts servedFrom). `publish`: the step whose end is the room
 * event's PutEvents accepted.
 */
export function routeSteps(action: OwnerAction, members: number): { steps: Step[]; publish: number } {
  const head = [
    one('API Gateway to the route function (warm)', 'lambdaInvoke'),
    one("the frame counted on the caller's connection (admitFrame)", 'dynamodbItem'),
    one("the room's keys read strongly (beforeRotation)", 'dynamodbItem'),
    one(
      "the owner's write: the room, its moderation item, its gates (TransactWriteItems)",
      'dynamodbTransaction',
    ),
    one('the room as the write left it', 'dynamodbItem'),
  ];
  // moveOutOf: the connection's move, the lobby's subscription, the room's deleted, the count off.
  const move = one(
    "the connection moved to the lobby (moveOutOf's four writes)",
    ...Array(4).fill('dynamodbItem'),
  );
  const audit = one("the action's audit row (auditModeration)", 'dynamodbItem');
  if (action === 'closeroom') {
    const steps = [
      ...head,
      move,
      one("the room's roomclosed event (PutEvents)", 'eventBridgePutEvents'),
      audit,
    ];
    return { steps, publish: steps.length - 2 };
  }
  // personIn reads the whole room index (listMembers): key 0's pages beside the room's key level, then its other keys.
  const level = keyLevelFor(members);
  const pages = Array(Math.ceil(Math.ceil(members / level) / PAGE_ENTRIES)).fill(
    'dynamodbQuery',
  ) as LatencyName[];
  const steps = [
    ...head,
    one('its moderation item (a removal marks the room moderated)', 'dynamodbItem'),
    { what: "the room index's key 0, beside the room's key level", chains: [pages, ['dynamodbItem']] },
    ...(level > 1
      ? [{ what: `its other ${level - 1} keys side by side`, chains: Array(level - 1).fill(pages) }]
      : []),
    one("the named member's connection (its userId)", 'dynamodbItem'),
    one("the person's devices (the user index)", 'dynamodbQuery'),
    one("its device's subscription of the room", 'dynamodbItem'),
    one("the owner's membership rekeyed (keepOwnersKey)", 'dynamodbItem'),
    move,
    one("the person's membership deleted (forgetPerson)", 'dynamodbItem'),
    one('the removed connection told (a post)', 'managementPost'),
    one("the leave on the room's presence board", 'dynamodbItem'),
    one('the leave and the new key (one PutEvents)', 'eventBridgePutEvents'),
    audit,
  ];
  return { steps, publish: steps.length - 2 };
}

export interface OwnerResult {
  action: OwnerAction;
  members: number;
  seeds: number;
  /** The route's answer, from its invoke to its reply (ms), over the seeds. */
  answerP50Ms: number;
  answerP99Ms: number;
  /** The deadlines it answers within (s): the route's own, its function's Timeout, API Gateway's integration. */
  routeSeconds: number;
  functionTimeoutSeconds: number;
  integrationSeconds: number;
  /** Frames each member is told, and the posts of one action (members told × frames). */
  frames: number;
  posts: number;
  /** From the route's invoke to the last member's last post (ms), over the seeds, and the quota that binds. */
  lastToldP50Ms: number;
  lastToldP99Ms: number;
  toldBinds: string;
  /** closeroom: until the last member is moved (ms), the moves refused past the SDK's retries, the quota that binds. */
  lastMovedP50Ms?: number;
  lastMovedP99Ms?: number;
  movesFailed?: number;
  movedBinds?: string;
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

/** One action, one seed: its answer, its last post and last move, and the quotas' use. */
function runOnce(action: OwnerAction, members: number, run: OwnerRun, seed: number) {
  const routeRandom = seededRandom(seed + ROUTE_SEED);
  const { steps, publish } = routeSteps(action, members);
  let t = 0;
  let publishedAt = 0;
  steps.forEach((step, i) => {
    t += Math.max(
      ...step.chains.map((c) =>
        c.reduce((n, call) => n + latencyMs(run.profile.latency[call], routeRandom), 0),
      ),
    );
    if (i === publish) publishedAt = t;
  });
  const answerMs = t;

  const st = setUpModel({
    design: run.design,
    scenario: { name: 'owners', rooms: 1, members, rate: 1, seconds: 1 },
    profile: run.profile,
    seed,
    settings: run.settings,
    traffic: false,
  });
  const { L, draw, transition, clock, meters } = st;
  // Deliver's environments warm, as a room this size keeps them between its messages: Prepare's, and one for each
  // chunk the room's fan-out runs at once (its keys' Map × its chunks' Map).
  const warm = Array.from({ length: st.keysAtOnce * st.chunksAtOnce + 1 }, () =>
    st.lambdas.invoke('DeliverFunction', 0),
  );
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
    lambdas: st.lambdas,
    refusals: st.refusals,
    outcomes: st.outcomes,
    measureFrom: 0,
    sendEnd: st.end,
    tally: st.tally,
    ...(action === 'closeroom' && { moveOut }),
  });
  // The room index's members but one: the removed member (its names filtered out), or the owner, moved by the route
  // (the index may still list it: one post more). removemember tells two frames: the leave (the presence board's) and
  // the new key, both in the execution the one PutEvents starts.
  const told = members - 1;
  const frames: Message[][] = (action === 'closeroom' ? [0] : [0, 1]).map((seq) => [
    { seq, sentAt: 0, takenAt: 0, posted: 0 },
  ]);
  // The event: the rule to the room's FIFO group, the pipe's poll, the execution, Prepare's reads, the room's posts.
  st.ruleTarget(publishedAt, () => {
    meters.groupQuota(0).take(clock.now);
    const received = clock.now + draw(L.sqsCall) + draw(L.pipesSqsPoll);
    const prepared =
      posting.deliverRead(received + transition()) + Math.max(draw(L.dynamodbQuery), draw(L.dynamodbItem));
    posting.postRoom({ members: told }, prepared + transition(), frames);
  });
  clock.runUntil(st.end);
  const uses = meters.uses(0, st.lambdas);
  const dynamo = (u: QuotaUse) => u.name.startsWith('DynamoDB write');
  return {
    answerMs,
    lastToldMs: st.tally.latency.max,
    posts: st.tally.posts,
    lastMovedMs: lastMoved,
    movesFailed,
    toldBinds: bindingQuota(uses.filter((u) => !dynamo(u))),
    movedBinds: bindingQuota(uses.filter(dynamo)),
  };
}

/** An action in a room of `members`, over `run.seeds` seeds from `run.seed`. */
export function runOwnerAction(action: OwnerAction, members: number, run: OwnerRun): OwnerResult {
  const seeds = run.seeds ?? OWNER_SEEDS;
  const runs = Array.from({ length: seeds }, (_, i) => runOnce(action, members, run, run.seed + i));
  const p = (values: number[], q: number) => Math.round(percentile(values, q));
  // The quota of the run that came nearest its limit (or refused most) names what binds.
  const worst = (uses: (QuotaUse | undefined)[]) =>
    describeBinding(bindingQuota(uses.filter((u) => u !== undefined)));
  return {
    action,
    members,
    seeds,
    answerP50Ms: p(
      runs.map((r) => r.answerMs),
      50,
    ),
    answerP99Ms: p(
      runs.map((r) => r.answerMs),
      99,
    ),
    routeSeconds: ROUTE_SECONDS,
    functionTimeoutSeconds: run.functionTimeoutSeconds,
    integrationSeconds: DEFAULT_INTEGRATION_TIMEOUT_MS / 1000,
    frames: action === 'closeroom' ? 1 : 2,
    posts: runs[0]?.posts ?? 0,
    lastToldP50Ms: p(
      runs.map((r) => r.lastToldMs),
      50,
    ),
    lastToldP99Ms: p(
      runs.map((r) => r.lastToldMs),
      99,
    ),
    toldBinds: worst(runs.map((r) => r.toldBinds)),
    ...(action === 'closeroom' && {
      lastMovedP50Ms: p(
        runs.map((r) => r.lastMovedMs),
        50,
      ),
      lastMovedP99Ms: p(
        runs.map((r) => r.lastMovedMs),
        99,
      ),
      movesFailed: runs.reduce((n, r) => n + r.movesFailed, 0),
      movedBinds: worst(runs.map((r) => r.movedBinds)),
    }),
  };
}

/** Both actions in each of OWNER_ROOMS, as a table. */
export function ownersTable(run: OwnerRun): { rows: OwnerResult[]; text: string } {
  const rows = (['removemember', 'closeroom'] as const).flatMap((action) =>
    OWNER_ROOMS.map((members) => runOwnerAction(action, members, run)),
  );
  const head = [
    'action',
    'members',
    'answer p50/p99 ms',
    'posts',
    'last told p50/p99 ms',
    'told: binds',
    'last moved p50/p99 ms',
    'moved: binds',
  ];
  const lines = rows.map((r) => [
    r.action,
    r.members.toLocaleString('en-US'),
    `${r.answerP50Ms} / ${r.answerP99Ms}`,
    r.posts.toLocaleString('en-US'),
    `${r.lastToldP50Ms} / ${r.lastToldP99Ms}`,
    r.toldBinds,
    r.lastMovedP50Ms === undefined
      ? '–'
      : `${r.lastMovedP50Ms} / ${r.lastMovedP99Ms} (${r.movesFailed} failed)`,
    r.movedBinds ?? '–',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  const first = rows[0];
  return {
    rows,
    text:
      `${[fmt(head), ...lines.map(fmt)].join('\n')}\n` +
      `(${first?.seeds} seeds a row, one action each; answer: from the route's invoke to its reply, against the route's ` +
      `${first?.routeSeconds} s, its function's Timeout ${first?.functionTimeoutSeconds} s and API Gateway's ` +
      `${first?.integrationSeconds} s; last told / moved: from the same invoke; the posting budget's refusals are ` +
      "chunks' reservations put off to its next second, no post lost)",
  };
}
