import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toErrorFrame } from '#core/errors';
import { DynamoGuardStore } from '#core/limits/dynamoGuard';
import { type PersonGate, type PersonRates, takePersonToken } from '#core/limits/personRate';
import { templateTables } from '../helpers/templateTables';

/**
 * A person's bucket that refused is remembered by the environment until it can next give a token
 * (core/limits/personRate.ts): takes before then are refused with no request and the reply the store's refusal
 * gets, takes from then on go to the store, and a changed limit goes to the store at once. Against the local
 * DynamoDB's Limits table, counting the requests each take sends.
 */
const tables = templateTables();
const WINDOW_S = 10;
/** 2 tokens per 10 s: one comes back every 5 s. */
const INTERVAL_MS = 5000;
let n = 0;

/** A gate on its own clock (`at`, epoch ms) and rates, whose store counts the requests sent (`sent`). */
function gate(rates: PersonRates) {
  const sent: string[] = [];
  const counting = {
    send: (command: object) => {
      sent.push(command.constructor.name);
      return tables.db.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  const clock = { at: Date.UTC(2026, 10, 27, 20, 0, 0) };
  const person: PersonGate = {
    store: new DynamoGuardStore(counting, tables.table('ConnectionsTable'), tables.table('LimitsTable')),
    rates: () => rates,
    now: () => new Date(clock.at),
  };
  return { person, sent, clock };
}

/** The frame a take's refusal gets (undefined: the take went through). */
async function reply(person: PersonGate, owner: string) {
  try {
    await takePersonToken(person, 'react', owner);
    return undefined;
  } catch (error) {
    return toErrorFrame(error, 'react');
  }
}

it('refuses a take before the bucket can refill without a request, with the frame the store refusal got', async () => {
  const owner = `user:flood-${++n}`;
  const { person, sent, clock } = gate({ react: { limit: 2, windowSeconds: WINDOW_S } });
  expect(await reply(person, owner)).toBeUndefined();
  expect(await reply(person, owner)).toBeUndefined();
  const refused = await reply(person, owner);
  expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  const asked = sent.length;
  // Empty since `at`: a token comes back INTERVAL_MS later. Until then, refused from the environment's memory.
  clock.at += INTERVAL_MS - 1;
  expect(await reply(person, owner)).toEqual(refused);
  expect(sent.length).toBe(asked);
});

it('asks the store again once a token can have come back, and is answered by it', async () => {
  const owner = `user:flood-${++n}`;
  const { person, sent, clock } = gate({ react: { limit: 2, windowSeconds: WINDOW_S } });
  for (let i = 0; i < 3; i++) await reply(person, owner);
  const asked = sent.length;
  clock.at += INTERVAL_MS;
  expect(await reply(person, owner)).toBeUndefined();
  expect(sent.length).toBe(asked + 1);
});

it('remembers no longer than the store refuses: another environment is still refused by the store just before', async () => {
  const owner = `user:flood-${++n}`;
  const rates = { react: { limit: 2, windowSeconds: WINDOW_S } };
  const first = gate(rates);
  for (let i = 0; i < 3; i++) await reply(first.person, owner);
  // A second environment (its own gate, so its own memory) taking from the same bucket meets the store.
  const second = gate(rates);
  second.clock.at = first.clock.at + INTERVAL_MS - 1;
  expect(await reply(second.person, owner)).toMatchObject({ code: 'RATE_LIMITED' });
  expect(second.sent).toHaveLength(1);
  second.clock.at = first.clock.at + INTERVAL_MS;
  expect(await reply(second.person, owner)).toBeUndefined();
});

it('goes to the store at once when the limit changed, and takes what the new limit allows', async () => {
  const owner = `user:flood-${++n}`;
  const rates: PersonRates = { react: { limit: 2, windowSeconds: WINDOW_S } };
  const { person, sent } = gate(rates);
  for (let i = 0; i < 3; i++) await reply(person, owner);
  // 3 per 30 s: a token every 10 s, and the bucket, 10 s from full, has one.
  rates.react = { limit: 3, windowSeconds: 30 };
  const asked = sent.length;
  expect(await reply(person, owner)).toBeUndefined();
  expect(sent.length).toBe(asked + 1);
});
