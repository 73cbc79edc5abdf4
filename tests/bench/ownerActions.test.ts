import { personConnectionsMax } from '#moderation/owners';
import { SETTINGS } from '#platform/settingsSchema';
import { deployedDesign, roomsFunctionTimeout, templateSettings } from '../../tools/bench/modelRuns';
import {
  type OwnerAction,
  type OwnerResult,
  type OwnerRun,
  runOwnerAction,
  STATE_MAX_BYTES,
} from '../../tools/bench/ownerActions';
import { AWS } from '../../tools/local/awsProfile';

/**
 * The model of an owner's and a moderator's actions (tools/bench/ownerActions.ts, `npm run bench -- --model owners`):
 * each route writes its change and publishes at most one room event, so its answer is about the same for a room of
 * 1,000 and of 10,000 and far inside its deadlines; the fan-out's posts, and a close's moves, are what grow with the
 * room. The model is deterministic by seed: these are its figures, not a clock's.
 */

const run: OwnerRun = {
  profile: AWS,
  settings: templateSettings(),
  design: deployedDesign(),
  functionTimeoutSeconds: roomsFunctionTimeout(),
  seed: 1,
  seeds: 10,
};
const results = new Map<string, OwnerResult>();
/** An action's result, run once on first use. */
function of(action: OwnerAction, members: number): OwnerResult {
  const key = `${action} ${members}`;
  if (!results.has(key)) results.set(key, runOwnerAction(action, members, run));
  return results.get(key) as OwnerResult;
}
const roomEvents: OwnerAction[] = ['removemember', 'ban', 'rotatekey', 'slowmode', 'closeroom'];

it.each([...roomEvents, 'mute'] as OwnerAction[])(
  '%s answers in about the same time for 1,000 members as for 10,000, far inside its deadlines',
  (action) => {
    const small = of(action, 1_000);
    const big = of(action, 10_000);
    // Equal within the draw: the route's calls do not grow with the room (a whole read of the index is one page a
    // key, its keys side by side: 10 keys at 1,000, 12 at 10,000).
    expect(big.answer.p50 / small.answer.p50).toBeGreaterThan(0.8);
    expect(big.answer.p50 / small.answer.p50).toBeLessThan(1.25);
    // Its slowest seed under a tenth of the route's own deadline, which the function's Timeout and API Gateway's
    // integration timeout (29 s) both leave room for.
    expect(big.answer.p99).toBeLessThan((big.routeSeconds * 1000) / 10);
    expect(big.routeSeconds).toBeLessThan(big.functionTimeoutSeconds);
    expect(big.functionTimeoutSeconds).toBeLessThan(big.integrationSeconds);
  },
);

it.each(roomEvents)(
  "%s's last member is told later in a room of 10,000, past a second of the posting budget",
  (action) => {
    const small = of(action, 1_000);
    const big = of(action, 10_000);
    // Every member told each frame (a removal's and a ban's: the leave and the new key; the removed person and a
    // close's owner not among them).
    const told = action === 'removemember' || action === 'ban' || action === 'closeroom' ? 9_999 : 10_000;
    expect(big.posts).toBe(told * big.frames);
    expect(big.lastTold?.p50).toBeGreaterThan(small.lastTold?.p50 as number);
    // More posts than one second of FanoutPostsPerSecond: the last wait for the next second's budget.
    expect(big.posts).toBeGreaterThan(SETTINGS.FanoutPostsPerSecond.default);
    expect(big.lastTold?.p50).toBeGreaterThan(1000);
    expect(big.lastTold?.p99).toBeLessThan((big.routeSeconds * 1000) / 2);
    // A chunk's state in the fan-out far under Step Functions' 256 KiB, whatever the room's size.
    expect(big.chunkStateBytes).toBeLessThan(STATE_MAX_BYTES / 10);
  },
);

it.each(['ban', 'removemember', 'mute'] as OwnerAction[])(
  '%s tells the person on every connection the route reads of theirs, before it answers',
  (action) => {
    const big = of(action, 10_000);
    expect(big.personPosts).toBe(personConnectionsMax(SETTINGS.ConnectionsPerSource.default));
    expect(big.personTold?.p50).toBeGreaterThan(0);
    expect(big.personTold?.p99).toBeLessThanOrEqual(big.answer.p99);
  },
);

it("a ban reads the room index twice (the target listed, then the person's connections after the rotation)", () => {
  const ban = of('ban', 10_000);
  const removal = of('removemember', 10_000);
  expect(ban.indexReads).toBe(2);
  expect(removal.indexReads).toBe(1);
  // The reads' units on one key of the index far under a partition's 3,000 read units a second.
  expect(ban.indexReadUnitsPerKey).toBeLessThan(AWS.quotas.dynamodbRcuPerKey.value / 50);
  expect(ban.indexReadUnits).toBe(2 * removal.indexReadUnits);
  expect(ban.answer.p50).toBeGreaterThan(removal.answer.p50);
});

it('a mute tells only the person: no room event, no fan-out posts', () => {
  const mute = of('mute', 10_000);
  expect(mute.posts).toBe(0);
  expect(mute.lastTold).toBeUndefined();
  expect(mute.chunkStateBytes).toBeUndefined();
});

it('rotatekey and slowmode read no member and answer before a removal does', () => {
  for (const action of ['rotatekey', 'slowmode'] as OwnerAction[]) {
    const big = of(action, 10_000);
    expect(big.indexReads).toBe(0);
    expect(big.personTold).toBeUndefined();
    expect(big.answer.p99).toBeLessThan(of('removemember', 10_000).answer.p50);
  }
});

it('closeroom moves every member before it is told, and names the DynamoDB quota the moves come nearest', () => {
  const big = of('closeroom', 10_000);
  expect(big.movesFailed).toBe(0);
  // A chunk's moves come before its posts: the last move is before the last post.
  expect(big.lastMoved?.p50).toBeGreaterThan(0);
  expect(big.lastMoved?.p50).toBeLessThan(big.lastTold?.p50 as number);
  expect(big.movedBinds).toMatch(/^DynamoDB write/);
  expect(of('removemember', 10_000).lastMoved).toBeUndefined();
});
