import { ratePeriodMs, startSchedules } from '../../tools/local/schedules';

/** EventBridge's rate expressions ("Rate expressions reference", EventBridge user guide): what it takes and refuses. */
it.each([
  ['rate(1 minute)', 60_000],
  ['rate(5 minutes)', 300_000],
  ['rate(1 hour)', 3_600_000],
  ['rate(2 days)', 172_800_000],
])('%s runs every %i ms', (expression, ms) => {
  expect(ratePeriodMs(expression)).toBe(ms);
});

it.each([
  'rate(1 minutes)',
  'rate(5 minute)',
  'rate(0 minutes)',
  'rate(1.5 hours)',
  'rate(1 week)',
  'rate(minute)',
])('%s is refused as EventBridge refuses it', (expression) => {
  expect(() => ratePeriodMs(expression)).toThrow(`Parameter ScheduleExpression is not valid: ${expression}`);
});

it('a cron() schedule is refused at start, naming its event, rather than never firing', () => {
  const schedule = { logicalId: 'FnNightly', functionId: 'Fn', expression: 'cron(0 3 * * ? *)' };
  expect(() =>
    startSchedules([schedule], { region: 'us-east-1', accountId: '1', invoke: async () => 0, warn: () => 0 }),
  ).toThrow('FnNightly: the local cloud runs rate() schedules only');
});

it('each period invokes the function with the Input, or else the scheduled event', async () => {
  jest.useFakeTimers();
  try {
    const got: [string, unknown][] = [];
    const started = startSchedules(
      [
        { logicalId: 'AWithInput', functionId: 'A', expression: 'rate(1 minute)', input: { op: 'sweep' } },
        { logicalId: 'BPlain', functionId: 'B', expression: 'rate(2 minutes)' },
      ],
      {
        region: 'eu-west-1',
        accountId: '123456789012',
        invoke: async (fn, event) => got.push([fn, event]),
        warn: () => 0,
      },
    );
    jest.advanceTimersByTime(59_999);
    expect(got).toEqual([]);
    jest.advanceTimersByTime(60_001);
    expect(got.map(([fn]) => fn).sort()).toEqual(['A', 'A', 'B']);
    expect(got.filter(([fn]) => fn === 'A').map(([, event]) => event)).toEqual([
      { op: 'sweep' },
      { op: 'sweep' },
    ]);
    expect(got.find(([fn]) => fn === 'B')?.[1]).toMatchObject({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/BPlain'],
      detail: {},
    });
    started.close();
    jest.advanceTimersByTime(600_000);
    expect(got).toHaveLength(3);
  } finally {
    jest.useRealTimers();
  }
});
