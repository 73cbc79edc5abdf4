import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { AWS, callDelayMs, latencyMs, PROFILES, profileNamed } from '../../tools/local/awsProfile';
import { LOCAL_ADMIN } from '../../tools/local/iam';
import { startTestCloud } from '../helpers/localCloud';

/**
 * `--aws-profile aws` makes the local services wait AWS's per-call latencies (tools/local/awsProfile.ts); without it
 * they answer as fast as they can.
 */
const CALLS = 20;
/** Well under the profile's DynamoDB median (5 ms): a median call under 2 ms would be a broken profile. */
const FLOOR_MS = 2;

async function getItemsMs(awsProfile: string): Promise<number> {
  const { cloud } = await startTestCloud({ awsProfile });
  const dynamo = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { ...LOCAL_ADMIN },
  });
  try {
    const table = cloud.template.tables()[0]?.TableName as string;
    const key = cloud.template.tables()[0]?.KeySchema?.map((k) => k.AttributeName) ?? [];
    const Key = Object.fromEntries(key.map((name) => [name as string, { S: 'nobody' }]));
    await dynamo.send(new GetItemCommand({ TableName: table, Key }));
    // The median call: a loaded machine's pauses land on a few calls, the profile's wait on every one.
    const times: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const started = performance.now();
      await dynamo.send(new GetItemCommand({ TableName: table, Key }));
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[CALLS / 2] as number;
  } finally {
    dynamo.destroy();
    await cloud.close();
  }
}

it('makes DynamoDB GetItem wait the profile latency under --aws-profile aws', async () => {
  // A floor, which a loaded machine only raises: the profile's wait is in every call, whatever else delays it.
  expect(await getItemsMs('aws')).toBeGreaterThan(FLOOR_MS);
}, 240_000);

it('waits nothing without a profile: no call is delayed by a drawn latency', () => {
  // How fast an unprofiled cloud answers depends on the machine; that it adds no wait of its own does not.
  for (const name of Object.keys(AWS.latency) as (keyof typeof AWS.latency)[])
    expect(callDelayMs(undefined, name)).toBe(0);
  expect(callDelayMs(AWS, 'dynamodbItem')).toBeGreaterThan(0);
});

it('draws latencies around the figures: a median near p50, a 99th percentile near p99', () => {
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const draws = Array.from({ length: 20_000 }, () => latencyMs(AWS.latency.dynamodbItem, random)).sort(
    (a, b) => a - b,
  );
  expect(draws[10_000]).toBeGreaterThan(AWS.latency.dynamodbItem.p50 * 0.9);
  expect(draws[10_000]).toBeLessThan(AWS.latency.dynamodbItem.p50 * 1.1);
  expect(draws[19_800]).toBeGreaterThan(AWS.latency.dynamodbItem.p99 * 0.8);
  expect(draws[19_800]).toBeLessThan(AWS.latency.dynamodbItem.p99 * 1.2);
});

it('names a source for every figure of every profile', () => {
  for (const profile of Object.values(PROFILES)) {
    for (const [name, figure] of [...Object.entries(profile.latency), ...Object.entries(profile.quotas)])
      expect({ name, source: figure.source }).toEqual({
        name,
        source: expect.stringMatching(/^(docs\.aws\.amazon\.com|aws\.amazon\.com)\//),
      });
  }
});

it('refuses an unknown profile by name, with the ones there are', () => {
  expect(() => profileNamed('azure')).toThrow('unknown AWS profile "azure": the profiles are aws');
  const cli = spawnSync(process.execPath, [join('dist', 'local', 'cli.js'), '--aws-profile', 'azure'], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(cli.status).toBe(2);
  expect(cli.stderr).toContain('--aws-profile: unknown AWS profile "azure"');
});
