import {
  LEAVE_GRACE_SECONDS,
  RECONNECTS_PER_SECOND,
  stormWaitSeconds,
  stormWindow,
} from '#core/identity/grace';
import type { AwsProfile } from '../local/awsProfile';
import { type PresenceLoad, presenceScaleLines } from './presenceScale';
import { stackLimits } from './stackLimits';

/**
 * `npm run bench -- --model presence`: one room's presence under a join burst and a reconnect storm, turn by turn, at
 * the AWS profile's p50 latencies (docs/DECISIONS.md, "Presence collected per room, told once a turn"). Two designs:
 * `queue`, a fan-out queue message per change, merged only within one execution's batch (the pipe's ≤ 10 records of
 * the room's group); `board`, the room's presence board, taken whole by each execution its one wake starts. Each
 * execution posts every member present one frame. Counted: executions, posts, posts per member, the time those posts
 * take of the account's 10,000 requests/s, and how long a message sent mid-burst waits behind presence in the room's
 * queue group. Deterministic: no draws.
 */

/** API Gateway's requests per second per account, `@connections` included (AWS-QUOTAS.md). */
const ACCOUNT_POSTS_PER_SECOND = 10_000;
/** Records one execution takes from a FIFO group at most (the pipe's batch from a FIFO source). */
const PIPE_BATCH = 10;

export type PresenceDesign = 'queue' | 'board';

export type { PresenceLoad };

export interface PresenceResult {
  load: string;
  design: PresenceDesign;
  changes: number;
  executions: number;
  posts: number;
  /** Posts over the most members the room held: the frames one member got. */
  postsPerMember: number;
  /** The posts at the account's 10,000 requests/s, in seconds. */
  drainSeconds: number;
  /** A message sent at the load's middle: how long its wake waited in the group behind presence (s). */
  messageWaitSeconds: number;
}

/** A 5,000-member room filling with 5,000 joins over 60 s (83 a second). */
export const joinBurst = (members = 5_000, seconds = 60): PresenceLoad => ({
  name: `join burst: ${members} joins in ${seconds} s`,
  members: 0,
  changes: Array.from({ length: members }, (_, i) => ({
    at: (i * seconds) / members,
    event: 'join' as const,
  })),
});

/**
 * A reconnect storm as one room of `members` sees it: every connection dropped at 0, back at API Gateway's 500 new
 * connections/s shared by `connections` (the room's members come back at their share of it). A member's leave is told
 * when its departure settles unless it is back by then: at the leave grace (5 s), stretched as the product stretches
 * it (core/identity/grace.ts stormWaitSeconds) by the closes its settle's window of counters holds, here all of them.
 */
export function reconnectStorm(members = 5_000, connections = 20_000): PresenceLoad {
  const perSecond = RECONNECTS_PER_SECOND * (members / connections);
  const window = new Set(stormWindow(LEAVE_GRACE_SECONDS * 1000));
  const settledAt = LEAVE_GRACE_SECONDS + stormWaitSeconds(window.has(0) ? [connections] : []);
  const changes: PresenceLoad['changes'] = [];
  for (let i = 0; i < members; i++) {
    const back = i / perSecond;
    if (back <= settledAt) continue;
    changes.push({ at: settledAt, event: 'leave' }, { at: back, event: 'join' });
  }
  changes.sort((a, b) => a.at - b.at);
  return {
    name: `reconnect storm: ${connections} at ${RECONNECTS_PER_SECOND}/s, a room of ${members}`,
    members,
    changes,
  };
}

/**
 * One room's presence executions, back to back in its queue group: an execution starts once its first record has
 * reached the group (PutEvents, the rule to SQS, the pipe's poll) and the group's previous execution has ended; it
 * lasts its posts (the p50 a room of that size is posted in: Express's start and the Map, then the members' posts,
 * at least their share of the account's rate).
 */
export function runPresence(load: PresenceLoad, design: PresenceDesign, profile: AwsProfile): PresenceResult {
  const l = profile.latency;
  const toGroup = (l.eventBridgePutEvents.p50 + l.eventBridgeToTarget.p50 + l.pipesSqsPoll.p50) / 1000;
  const postSeconds = (members: number) =>
    Math.max(members / ACCOUNT_POSTS_PER_SECOND, (55 + 0.082 * members) / 1000) +
    (l.lambdaInvoke.p50 + l.dynamodbItem.p50) / 1000;
  const changes = load.changes;
  let members = load.members;
  let most = members;
  let next = 0;
  let free = 0;
  let executions = 0;
  let posts = 0;
  const middle = changes.length > 0 ? (changes[changes.length - 1]?.at ?? 0) / 2 : 0;
  let messageWait: number | undefined;
  while (next < changes.length) {
    const first = changes[next] as { at: number };
    const start = Math.max(free, first.at + toGroup);
    // A message's wake reaching the group now waits for this execution and every one already queued before it.
    if (messageWait === undefined && first.at + toGroup >= middle)
      messageWait = Math.max(0, free - middle - toGroup);
    // queue: the batch's records that reached the group by the start; board: every change written before the take.
    let taken = 0;
    while (next < changes.length) {
      const c = changes[next] as PresenceLoad['changes'][number];
      if (design === 'queue' && (taken >= PIPE_BATCH || c.at + toGroup > start)) break;
      if (design === 'board' && c.at > start) break;
      members += c.event === 'join' ? 1 : -1;
      taken++;
      next++;
    }
    most = Math.max(most, members);
    executions++;
    posts += members;
    free = start + postSeconds(members);
  }
  return {
    load: load.name,
    design,
    changes: changes.length,
    executions,
    posts,
    postsPerMember: most > 0 ? Math.round(posts / most) : 0,
    drainSeconds: Math.round((posts / ACCOUNT_POSTS_PER_SECOND) * 10) / 10,
    messageWaitSeconds: Math.round((messageWait ?? 0) * 10) / 10,
  };
}

/**
 * The presence loads under both designs, as a table; then what they cost the rest of the stack (presenceScale.ts):
 * the room's messages beside the join burst, and the departure machine's starts of each storm's connections.
 */
export function presenceTable(profile: AwsProfile): { rows: object[]; text: string } {
  const storms = [20_000, 100_000];
  const rows = [joinBurst(), ...storms.map((n) => reconnectStorm(5_000, n))].flatMap((load) =>
    (['queue', 'board'] as const).map((design) => runPresence(load, design, profile)),
  );
  const line = (r: PresenceResult) =>
    `${r.load.padEnd(45)} ${r.design.padEnd(6)} ${String(r.changes).padStart(7)} ${String(r.executions).padStart(6)} ` +
    `${String(r.posts).padStart(10)} ${String(r.postsPerMember).padStart(8)} ${String(r.drainSeconds).padStart(8)} ` +
    `${String(r.messageWaitSeconds).padStart(8)}`;
  const head =
    `${'presence load'.padEnd(45)} ${'design'.padEnd(6)} ${'changes'.padStart(7)} ${'execs'.padStart(6)} ` +
    `${'posts'.padStart(10)} ${'/member'.padStart(8)} ${'drain s'.padStart(8)} ${'msg wait'.padStart(8)}`;
  const { settings } = stackLimits();
  const scale = presenceScaleLines(profile, joinBurst(), storms, {
    postsPerSecond: settings.postsPerSecond as number,
    retries: settings.ruleRetries as NonNullable<typeof settings.ruleRetries>,
  });
  return {
    rows: [...rows, ...scale.messages, ...scale.departures],
    text:
      `${head}\n${rows.map(line).join('\n')}\n` +
      `(drain s: the posts at the account's ${ACCOUNT_POSTS_PER_SECOND.toLocaleString('en-US')} requests/s; ` +
      "msg wait: a message sent mid-load, its wake behind presence in the room's group)\n" +
      scale.text,
  };
}
