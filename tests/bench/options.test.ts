import { parseOptions } from '../../bench/options';

describe('bench options', () => {
  it('warms the hot room with one message unless told more, and refuses a warm-up of none', () => {
    expect(parseOptions(['--hot-room'])?.warmup).toBe(1);
    expect(parseOptions(['--hot-room', '--warmup', '20'])?.warmup).toBe(20);
    expect(() => parseOptions(['--hot-room', '--warmup', '0'])).toThrow(
      '--warmup must be an integer 1..1000',
    );
    expect(() => parseOptions(['--hot-room', '--warmup', 'many'])).toThrow('--warmup');
  });
});
