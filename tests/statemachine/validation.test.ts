import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LocalStateMachine } from '../../tools/local/stepfunctions';

/**
 * The local Step Functions refuses a definition Step Functions would refuse (asl-validator, its path checks included),
 * each time it is loaded: definitions it accepted are remembered across processes, the ones it refused never are.
 */
const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:work';
const db = new DynamoDBClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});
afterAll(() => db.destroy());

const load = (definition: object, calls: unknown[] = []) =>
  new LocalStateMachine('validation', definition, {
    dynamodb: db,
    invokeFunction: async (_arn, payload) => {
      calls.push(payload);
      return payload;
    },
  });

/** A definition no earlier run has seen (its Comment is new), so it is validated here, not remembered. */
const fresh = (states: Record<string, unknown>) => ({
  Comment: randomUUID(),
  StartAt: 'Work',
  States: states,
});

it('refuses a definition whose transition names no state, on every load', () => {
  const broken = fresh({ Work: { Type: 'Task', Resource: FUNCTION, Next: 'Nowhere' } });
  expect(() => load(broken)).toThrow(/State machine definition is invalid[\s\S]*Nowhere/);
  expect(() => load(broken)).toThrow(/State machine definition is invalid[\s\S]*Nowhere/);
});

it('refuses a malformed path, on every load', () => {
  const badPath = fresh({ Work: { Type: 'Task', Resource: FUNCTION, InputPath: 'no-dollar', End: true } });
  expect(() => load(badPath)).toThrow(/State machine definition is invalid[\s\S]*InputPath/);
  expect(() => load(badPath)).toThrow(/State machine definition is invalid[\s\S]*InputPath/);
});

it('runs a valid definition the same the first time and once it is remembered', async () => {
  const valid = fresh({ Work: { Type: 'Task', Resource: FUNCTION, End: true } });
  for (let i = 0; i < 2; i++) {
    const calls: unknown[] = [];
    const summary = await load(valid, calls).execute({ n: i });
    expect(summary).toMatchObject({ ok: true, output: { n: i } });
    expect(calls).toEqual([{ n: i }]);
  }
});
