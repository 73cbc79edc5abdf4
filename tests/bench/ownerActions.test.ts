import { SETTINGS } from '#platform/settingsSchema';
import { deployedDesign, roomsFunctionTimeout, templateSettings } from '../../tools/bench/modelRuns';
import { type OwnerAction, type OwnerRun, runOwnerAction } from '../../tools/bench/ownerActions';
import { AWS } from '../../tools/local/awsProfile';

/**
 * The model of an owner's actions (tools/bench/ownerActions.ts, `npm run bench -- --model owners`): the route writes
 * its change and publishes one room event, so its answer is the same for a room of 1,000 and of 10,000 and far inside
 * its deadlines; the fan-out's posts, and a close's moves, are what grow with the room. The model is deterministic by
 * seed: these are its figures, not a clock's.
 */

const run: OwnerRun = {
  profile: AWS,
  settings: templateSettings(),
  design: deployedDesign(),
  functionTimeoutSeconds: roomsFunctionTimeout(),
  seed: 1,
  seeds: 10,
};
const actions: OwnerAction[] = ['removemember', 'closeroom'];
const results = new Map(
  actions.flatMap((a) => [1_000, 10_000].map((m) => [`${a} ${m}`, runOwnerAction(a, m, run)] as const)),
);
const of = (action: OwnerAction, members: number) =>
  results.get(`${action} ${members}`) as NonNullable<ReturnType<typeof results.get>>;

it.each(actions)(
  '%s answers in the same time for 1,000 members as for 10,000, far inside its deadlines',
  (action) => {
    const small = of(action, 1_000);
    const big = of(action, 10_000);
    // Equal within the draw: the route's calls do not grow with the room.
    expect(big.answerP50Ms / small.answerP50Ms).toBeGreaterThan(0.8);
    expect(big.answerP50Ms / small.answerP50Ms).toBeLessThan(1.25);
    // Its slowest seed under a tenth of the route's own deadline, which the function's Timeout and API Gateway's
    // integration timeout (29 s) both leave room for.
    expect(big.answerP99Ms).toBeLessThan((big.routeSeconds * 1000) / 10);
    expect(big.routeSeconds).toBeLessThan(big.functionTimeoutSeconds);
    expect(big.functionTimeoutSeconds).toBeLessThan(big.integrationSeconds);
  },
);

it.each(actions)(
  "%s's last member is told later in a room of 10,000, past a second of the posting budget",
  (action) => {
    const small = of(action, 1_000);
    const big = of(action, 10_000);
    // Every member but one told each frame: the new key and the leave for a removal, `roomclosed` for a close.
    expect(big.posts).toBe(9_999 * big.frames);
    expect(big.lastToldP50Ms).toBeGreaterThan(small.lastToldP50Ms);
    // More posts than one second of FanoutPostsPerSecond: the last wait for the next second's budget.
    expect(big.posts).toBeGreaterThan(SETTINGS.FanoutPostsPerSecond.default);
    expect(big.lastToldP50Ms).toBeGreaterThan(1000);
    expect(big.lastToldP99Ms).toBeLessThan((big.routeSeconds * 1000) / 2);
  },
);

it('closeroom moves every member before it is told, and names the DynamoDB quota the moves come nearest', () => {
  const big = of('closeroom', 10_000);
  expect(big.movesFailed).toBe(0);
  // A chunk's moves come before its posts: the last move is before the last post.
  expect(big.lastMovedP50Ms).toBeGreaterThan(0);
  expect(big.lastMovedP50Ms).toBeLessThan(big.lastToldP50Ms);
  expect(big.movedBinds).toMatch(/^DynamoDB write/);
  expect(of('removemember', 10_000).lastMovedP50Ms).toBeUndefined();
});
