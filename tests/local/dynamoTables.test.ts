import type { CreateTableInput } from '@aws-sdk/client-dynamodb';
import { startDynamo } from '../../tools/local/dynamodb';
import { type AdminCall, createTables } from '../../tools/local/dynamoTables';

const table: CreateTableInput = {
  TableName: 'rooms',
  AttributeDefinitions: [{ AttributeName: 'roomId', AttributeType: 'S' }],
  KeySchema: [{ AttributeName: 'roomId', KeyType: 'HASH' }],
  BillingMode: 'PAY_PER_REQUEST',
};

/** A DynamoDB whose new tables stay CREATING until the test stores them ACTIVE (`activate`). */
function creatingDynamo() {
  const status = new Map<string, string>();
  const listeners = new Map<string, (() => void)[]>();
  const call: AdminCall = async (operation, input) => {
    const name = (input as { TableName?: string }).TableName ?? '';
    if (operation === 'ListTables') return { TableNames: [...status.keys()] };
    if (operation === 'CreateTable') status.set(name, 'CREATING');
    if (operation === 'DescribeTable') return { Table: { TableStatus: status.get(name) } };
    return {};
  };
  return {
    call,
    status,
    activated: (name: string) =>
      new Promise<void>((resolve) => listeners.set(name, [...(listeners.get(name) ?? []), resolve])),
    activate(name: string) {
      status.set(name, 'ACTIVE');
      for (const wake of listeners.get(name)?.splice(0) ?? []) wake();
    },
  };
}

describe("the local DynamoDB's tables at start", () => {
  test('a table still CREATING is waited for until it is stored ACTIVE, then the start goes on', async () => {
    const dynamo = creatingDynamo();
    let done = false;
    const creating = createTables(
      dynamo.call,
      [table, { ...table, TableName: 'members' }],
      dynamo.activated,
    ).then(() => {
      done = true;
    });
    // Until both tables are ACTIVE, the start waits (however many turns the machine takes meanwhile).
    for (let turn = 0; turn < 50 && dynamo.status.get('members') !== 'CREATING'; turn++)
      await new Promise((resolve) => setImmediate(resolve));
    dynamo.activate('rooms');
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    dynamo.activate('members');
    await creating;
    expect(done).toBe(true);
  });

  test('a table the template defines wrongly is refused by DynamoDB, and the start fails with its reason', async () => {
    const wrong: CreateTableInput = {
      ...table,
      // The key names an attribute the definitions do not declare: DynamoDB's ValidationException.
      KeySchema: [{ AttributeName: 'missing', KeyType: 'HASH' }],
    };
    await expect(startDynamo({ tables: [wrong] })).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
