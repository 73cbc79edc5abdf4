import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The delivery-failure alarm's metric math, read from template.yaml and evaluated the way the CloudWatch user guide
 * documents it ("Using metric math": arithmetic, comparison operators, "Using IF expressions"). The evaluator knows
 * only those documented forms, so an undocumented one (such as `MAX([expression, 1])`, whose array holds a scalar)
 * is refused instead of being given a meaning CloudWatch never promised.
 */
type Stat = {
  Id: string;
  ReturnData?: boolean;
  Expression?: string;
  MetricStat?: { Metric: { MetricName: string } };
};
const template = parse(readFileSync(join(__dirname, '..', '..', 'template.yaml'), 'utf8'), {
  logLevel: 'silent',
}) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const alarm = template.Resources.DeliveryFailureRateAlarm?.Properties as {
  Metrics: Stat[];
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
};

/** One data point per id; an id without a value is a missing data point. */
type Point = Record<string, number | undefined>;

/**
 * A per-timestamp evaluator for the documented subset. Missing values in arithmetic count as 0 and a division by
 * zero drops the data point (both from "Basic arithmetic functions"); comparisons give 1 or 0; IF(cond, a, b) picks a
 * when cond is non-zero ("Using IF expressions"). Returns undefined for a dropped point.
 */
function evaluate(expression: string, point: Point): number | undefined {
  const tokens = expression.match(
    /\s*(\d+(?:\.\d+)?|[a-z][A-Za-z0-9_]*|[A-Z_]+|==|!=|<=|>=|&&|\|\||[-+*/()<>,[\]^])/g,
  );
  if (!tokens || tokens.join('').replace(/\s/g, '') !== expression.replace(/\s/g, ''))
    throw new Error(`cannot read "${expression}"`);
  const queue = tokens.map((t) => t.trim());
  let at = 0;
  const peek = () => queue[at];
  const take = (expected?: string) => {
    const token = queue[at++];
    if (expected !== undefined && token !== expected) throw new Error(`expected ${expected}, got ${token}`);
    return token as string;
  };
  type Value = number | undefined; // undefined: the data point is dropped
  const arithmetic = (a: Value, b: Value, op: (x: number, y: number) => number | undefined): Value =>
    a === undefined || b === undefined ? undefined : op(a, b);

  const primary = (): Value => {
    const token = take();
    if (/^\d/.test(token)) return Number(token);
    if (token === '(') {
      const value = comparison();
      take(')');
      return value;
    }
    if (token === '-') return arithmetic(0, primary(), (x, y) => x - y);
    if (token === 'IF') {
      take('(');
      const condition = comparison();
      take(',');
      const whenTrue = comparison();
      let whenFalse: Value;
      if (peek() === ',') {
        take(',');
        whenFalse = comparison();
      }
      take(')');
      if (condition === undefined) return undefined;
      return condition !== 0 ? whenTrue : whenFalse;
    }
    if (/^[a-z]/.test(token)) {
      if (!(token in point)) throw new Error(`"${token}" is not an id of this alarm`);
      return point[token] ?? 0; // a missing value counts as 0 in arithmetic
    }
    throw new Error(`"${token}" is not documented metric math for one time series`);
  };
  const product = (): Value => {
    let value = primary();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      const right = primary();
      value = arithmetic(value, right, (x, y) => (op === '*' ? x * y : y === 0 ? undefined : x / y));
    }
    return value;
  };
  const sum = (): Value => {
    let value = product();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const right = product();
      value = arithmetic(value, right, (x, y) => (op === '+' ? x + y : x - y));
    }
    return value;
  };
  const comparisons: Record<string, (x: number, y: number) => boolean> = {
    '>': (x, y) => x > y,
    '<': (x, y) => x < y,
    '>=': (x, y) => x >= y,
    '<=': (x, y) => x <= y,
    '==': (x, y) => x === y,
    '!=': (x, y) => x !== y,
  };
  function comparison(): Value {
    const left = sum();
    const compare = comparisons[peek() ?? ''];
    if (!compare) return left;
    take();
    return arithmetic(left, sum(), (x, y) => (compare(x, y) ? 1 : 0));
  }

  const value = comparison();
  if (at !== queue.length) throw new Error(`unexpected "${peek()}" in "${expression}"`);
  return value;
}

const returned = alarm.Metrics.filter((m) => m.ReturnData !== false);
const inputs = alarm.Metrics.filter((m) => m.MetricStat);
const idOf = (name: string) => inputs.find((m) => m.MetricStat?.Metric.MetricName === name)?.Id as string;

/** Whether one period with these sums breaches the alarm's threshold; undefined when the period has no data point. */
function breaches(deliveries: number | undefined, failures: number | undefined): boolean | undefined {
  const rate = evaluate(returned[0]?.Expression as string, {
    [idOf('Deliveries')]: deliveries,
    [idOf('DeliveryFailures')]: failures,
  });
  if (rate === undefined) return undefined;
  expect(alarm.ComparisonOperator).toBe('GreaterThanThreshold');
  return rate > alarm.Threshold;
}

it('returns one expression over the Deliveries and DeliveryFailures sums', () => {
  expect(returned).toHaveLength(1);
  expect(returned[0]?.Expression).toEqual(expect.any(String));
  expect(inputs.map((m) => m.MetricStat?.Metric.MetricName).sort()).toEqual([
    'Deliveries',
    'DeliveryFailures',
  ]);
  expect(inputs.every((m) => m.ReturnData === false)).toBe(true);
});

it('alarms when more than 1% of posts failed, and not at 1% or below', () => {
  expect(breaches(98, 2)).toBe(true);
  expect(breaches(99, 1)).toBe(false);
  expect(breaches(999, 1)).toBe(false);
  expect(breaches(0, 5)).toBe(true);
});

it('stays quiet, with a data point, when nothing was posted', () => {
  expect(breaches(0, 0)).toBe(false);
});

it('counts a missing metric as no posts, as CloudWatch does in arithmetic', () => {
  expect(breaches(500, undefined)).toBe(false);
  expect(breaches(undefined, 3)).toBe(true);
  expect(alarm.TreatMissingData).toBe('notBreaching');
});

it('refuses metric math the CloudWatch guide does not document', () => {
  const point = { failures: 1, deliveries: 1 };
  expect(() => evaluate('100 * failures / MAX([failures + deliveries, 1])', point)).toThrow(/not documented/);
  expect(evaluate('IF(failures + deliveries > 0, 100 * failures / (failures + deliveries), 0)', point)).toBe(
    50,
  );
});
