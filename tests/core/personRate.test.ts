import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toErrorFrame } from '#core/errors';
import { DynamoGuardStore } from '#core/limits/dynamoGuard';
import { type PersonGate, type PersonRates, takePersonToken } from '#core/limits/personRate';
import { templateTables } from '../helpers/templateTables';

/**
 * A Lambda environment remembers a person's bucket it has seen empty (a take of its own refused, or one that took the
 * last token) until the bucket can next give a token (core/limits/personRate.ts): takes before then are refused with
 * no request and the frame the store's refusal gets; from then on they go to the store; a changed limit goes to the
 * store at once. Against the local DynamoDB's Limits table, counting the requests each environment's takes send.
 */
const tables = templateTables();
const WINDOW_S = 10;
/** 2 tokens per 10 s: one comes back every 5 s. */
const INTERVAL_MS = 5000;
let n = 0;

/** One environment's gate on the shared `clock` (epoch ms), whose store counts the requests it sends (`sent`). */
function environment(clock: { at: number }, rates: PersonRates) {
  const sent: string[] = [];
  const counting = {
    send: (command: object) => {
      sent.push(command.constructor.name);
      return tables.db.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  const person: PersonGate = {
    store: new DynamoGuardStore(counting, tables.table('ConnectionsTable'), tables.table('LimitsTable')),
    rates: () => rates,
    now: () => new Date(clock.at),
  };
  return { person, sent };
}

/** The frame a take's refusal gets (undefined: the take went through). */
async function reply(env: { person: PersonGate }, owner: string) {
  try {
    await takePersonToken(env.person, 'react', owner);
    return undefined;
  } catch (error) {
    return toErrorFrame(error, 'react');
  }
}

/** Two environments of one person's reactions, 2 per 10 s; `a` has taken both tokens at `clock.at`. */
async function drained() {
  const owner = `user:flood-${++n}`;
  const clock = { at: Date.UTC(2026, 10, 27, 20, 0, 0) };
  const rates: PersonRates = { react: { limit: 2, windowSeconds: WINDOW_S } };
  const a = environment(clock, rates);
  const b = environment(clock, rates);
  expect(await reply(a, owner)).toBeUndefined();
  expect(await reply(a, owner)).toBeUndefined();
  return { owner, clock, rates, a, b };
}

it('refuses a take before the bucket can refill without a request, with the frame the store refusal got', async () => {
  const { owner, clock, b } = await drained();
  const refused = await reply(b, owner);
  expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  expect(b.sent).toHaveLength(1);
  // Empty since `at`: a token comes back INTERVAL_MS later. Until then, refused from the environment's memory.
  clock.at += INTERVAL_MS - 1;
  expect(await reply(b, owner)).toEqual(refused);
  expect(b.sent).toHaveLength(1);
});

it('knows the bucket empty after taking its last token, and refuses as the store does', async () => {
  const { owner, clock, a, b } = await drained();
  const refused = await reply(b, owner);
  const asked = a.sent.length;
  clock.at += INTERVAL_MS - 1;
  expect(await reply(a, owner)).toEqual(refused);
  expect(a.sent).toHaveLength(asked);
});

it('asks the store again once a token can have come back, and is answered by it', async () => {
  const { owner, clock, b } = await drained();
  await reply(b, owner);
  clock.at += INTERVAL_MS;
  expect(await reply(b, owner)).toBeUndefined();
  expect(b.sent).toHaveLength(2);
});

it('remembers no longer than the store refuses: another environment is refused by the store just before', async () => {
  const { owner, clock, b } = await drained();
  clock.at += INTERVAL_MS - 1;
  expect(await reply(b, owner)).toMatchObject({ code: 'RATE_LIMITED' });
  expect(b.sent).toHaveLength(1);
  clock.at += 1;
  expect(await reply(b, owner)).toBeUndefined();
});

it('goes to the store at once when the limit changed, and takes what the new limit allows', async () => {
  const { owner, rates, b } = await drained();
  await reply(b, owner);
  // 3 per 30 s: a token every 10 s, and the bucket, 10 s from full, has one.
  rates.react = { limit: 3, windowSeconds: 30 };
  expect(await reply(b, owner)).toBeUndefined();
  expect(b.sent).toHaveLength(2);
});
