import {
  deliveriesPerSec,
  lossAndDuplicates,
  percentile,
  ratePerSec,
  round,
  speedup,
  summarize,
} from '../../tools/bench/stats';

describe('bench statistics', () => {
  test('nearest-rank percentiles never interpolate', () => {
    const samples = [5, 1, 4, 2, 3];
    expect(percentile(samples, 50)).toBe(3);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile(samples, 100)).toBe(5);
    expect(percentile(samples, 95)).toBe(5);
    expect(percentile(samples, 20)).toBe(1);
    expect(percentile(samples, 21)).toBe(2);
  });

  test('p99 of 20 samples is the maximum, p95 the 19th', () => {
    const samples = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(samples, 99)).toBe(20);
    expect(percentile(samples, 95)).toBe(19);
    expect(percentile(samples, 50)).toBe(10);
  });

  test('percentile leaves its input unsorted and rejects bad p', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
    expect(() => percentile(samples, 101)).toThrow(RangeError);
    expect(() => percentile(samples, Number.NaN)).toThrow(RangeError);
    expect(percentile([], 50)).toBeNaN();
  });

  test('summary', () => {
    expect(summarize([10, 20, 30, 40])).toEqual({
      count: 4,
      min: 10,
      mean: 25,
      p50: 20,
      p95: 40,
      p99: 40,
      max: 40,
    });
    expect(summarize([]).p50).toBeNaN();
  });

  test('rates', () => {
    expect(ratePerSec(500, 250)).toBe(2000);
    expect(ratePerSec(1, 0)).toBeNaN();
    // 3 fan-outs to 1,000 members taking 100, 200 and 300 ms: 3,000 deliveries in 0.6 s.
    expect(deliveriesPerSec(1000, [100, 200, 300])).toBe(5000);
    expect(deliveriesPerSec(1000, [])).toBeNaN();
  });

  test('speedup and rounding', () => {
    expect(speedup(20_000, 100)).toBe(200);
    expect(speedup(100, 0)).toBeNaN();
    expect(round(123.456)).toBe(123);
    expect(round(12.345)).toBe(12.3);
    expect(round(Number.NaN)).toBeNaN();
  });

  test('loss and duplicates by seq', () => {
    expect(
      lossAndDuplicates(
        [1, 2, 3],
        [
          [1, 2, 3],
          [3, 2, 1],
        ],
      ),
    ).toEqual({ missing: 0, duplicated: 0 });
    expect(
      lossAndDuplicates(
        [1, 2, 3],
        [
          [1, 3],
          [1, 1, 2, 3, 3, 3],
        ],
      ),
    ).toEqual({ missing: 1, duplicated: 3 });
  });
});
