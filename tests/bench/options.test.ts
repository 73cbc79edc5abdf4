import { parseOptions } from '../../tools/bench/options';

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
