import { cloudArgs, parseOptions } from '../../tools/bench/options';

describe('bench options', () => {
  it('warms the hot room with one message unless told more, and refuses a warm-up of none', () => {
    expect(parseOptions(['--hot-room'])?.warmup).toBe(1);
    expect(parseOptions(['--hot-room', '--warmup', '20'])?.warmup).toBe(20);
    expect(() => parseOptions(['--hot-room', '--warmup', '0'])).toThrow(
      '--warmup must be an integer 1..1000',
    );
    expect(() => parseOptions(['--hot-room', '--warmup', 'many'])).toThrow('--warmup');
  });

  it('measures 20 quiet messages unless told otherwise, never more than the messages when not told', () => {
    expect(parseOptions(['--hot-room'])?.quiet).toBe(20);
    expect(parseOptions(['--hot-room', '--messages', '5'])?.quiet).toBe(5);
    expect(parseOptions(['--hot-room', '--messages', '5', '--quiet', '100'])?.quiet).toBe(100);
    expect(() => parseOptions(['--hot-room', '--quiet', '0'])).toThrow('--quiet must be an integer 1..1000');
  });
});

describe('--search-index', () => {
  it('compares the ack with and without the index in one room of 10 at 20/s and no injected latency, unless told', () => {
    expect(parseOptions(['--search-index'])).toMatchObject({
      searchIndex: true,
      rooms: [10],
      rate: 20,
      latencies: [0],
    });
    expect(parseOptions(['--search-index', '--rate', '5', '--room', '3'])).toMatchObject({
      rate: 5,
      rooms: [3],
    });
    expect(parseOptions(['--ceiling'])?.searchIndex).toBe(false);
  });
});

describe('the AWS profile and the model on the command line', () => {
  const templateParameters = new Set(['AuthMode']);

  it('starts the local cloud under the profile asked for, without an injected latency unless one is given', () => {
    const opts = parseOptions(['--hot-room', '--aws-profile', 'aws']);
    expect(opts?.awsProfile).toBe('aws');
    expect(opts?.latencies).toEqual([0]);
    expect(opts?.apiLatencyGiven).toBe(false);
    expect(
      cloudArgs({
        awsProfile: 'aws',
        parameters: { AuthMode: 'token', SendRateLimit: '20' },
        templateParameters,
      }),
    ).toEqual([
      '--log-level',
      'ERROR',
      '--aws-profile',
      'aws',
      '--parameter',
      'AuthMode=token',
      '--setting',
      'SendRateLimit=20',
    ]);
    expect(cloudArgs({ apiLatencyMs: 20, parameters: {}, templateParameters })).toEqual([
      '--log-level',
      'ERROR',
      '--api-latency-ms',
      '20',
    ]);
  });

  it('refuses a profile, a scenario or a design it does not know, naming the ones there are', () => {
    expect(() => parseOptions(['--aws-profile', 'azure'])).toThrow(
      'unknown AWS profile "azure": the profiles are aws',
    );
    expect(() => parseOptions(['--model', 'huge'])).toThrow(
      /--model must be one of room-100-at-100, .*ceiling/,
    );
    expect(() => parseOptions(['--model', 'all', '--design', 'lanes'])).toThrow(
      '--design must be queue, wake or both',
    );
    expect(() => parseOptions(['--model', 'custom', '--seed', 'x'])).toThrow('--seed must be an integer');
  });

  it('models both designs under the aws profile unless told otherwise, at rates the local cloud could not offer', () => {
    expect(parseOptions(['--model', 'all'])).toMatchObject({
      model: 'all',
      awsProfile: 'aws',
      designs: ['queue', 'wake'],
      seed: 1,
      seconds: 10,
    });
    expect(
      parseOptions(['--model', 'custom', '--rate', '2000', '--rooms', '50', '--design', 'wake']),
    ).toMatchObject({ rate: 2000, modelRooms: 50, designs: ['wake'] });
    expect(() => parseOptions(['--hot-room', '--rate', '2000'])).toThrow('--rate must be an integer 1..200');
  });
});
