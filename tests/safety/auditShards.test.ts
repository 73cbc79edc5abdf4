import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_SHARDS, DynamoModerationRecords } from '#safety/audit';
import { templateTables } from '../helpers/templateTables';

/**
 * The moderation log's day is spread over AUDIT_SHARDS index keys (functions/safety/audit.ts), so no one
 * UsernameIndex key takes every audit row of the stack: rows of one day land on many keys, and the operators' listing
 * of the day (`ofDay`) still finds every row, oldest first. Against the template's Sessions table in the local DynamoDB.
 */
const tables = templateTables();
const ROWS = 64;

it(`spreads a day's ${ROWS} audit rows over several index keys, and the day's listing reads every one`, async () => {
  const table = tables.table('SessionsTable');
  const log = new DynamoModerationRecords(tables.db, table, 'UsernameIndex', () => 3600);
  const day = '2030-01-02';
  for (let i = 0; i < ROWS; i++)
    await log.record({
      kind: 'filtered',
      roomId: 'ROOM01',
      actor: `user:${i}`,
      actorName: `n${i}`,
      at: `${day}T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0')}Z`,
      detail: { outcome: 'masked', words: ['darn'] },
    });

  const { Items = [] } = await tables.db.send(
    new ScanCommand({ TableName: table, ConsistentRead: true, ProjectionExpression: 'username' }),
  );
  const keys = new Set(Items.map((item) => String(item.username)));
  // 64 rows over 16 keys by a hash of a random id: all on one key has odds of 16^-63.
  expect(keys.size).toBeGreaterThan(1);
  expect([...keys].every((key) => key.startsWith(`#audit#${day}#`))).toBe(true);
  expect(keys.size).toBeLessThanOrEqual(AUDIT_SHARDS);

  const listed = await log.ofDay(day);
  expect(listed.map((row) => row.actorName).sort()).toEqual(
    Array.from({ length: ROWS }, (_, i) => `n${i}`).sort(),
  );
  const times = listed.map((row) => String(row.at));
  expect(times).toEqual([...times].sort());
  // Another day's listing holds none of them.
  expect(await log.ofDay('2030-01-03')).toEqual([]);
});
