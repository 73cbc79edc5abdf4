// EventBridge content filtering, as documented in "Amazon EventBridge event patterns": every key of the pattern
// must match; a leaf is a list of matchers of which one must match; an event array matches if any element does.

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True if `event` matches `pattern`; throws on a malformed pattern (a template bug, not a non-match). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObj(pattern))
    throw new Error(`Invalid event pattern: expected an object, got ${JSON.stringify(pattern)}`);
  return matchObject(pattern, event, '');
}

/** Throws if the pattern is malformed, so that a bad rule fails at start-up and not at the first event. */
export function assertEventPattern(pattern: unknown): void {
  checkStructure(pattern, '');
}

const PROBES: unknown[] = ['10.0.0.1', 1, true, null];

function checkStructure(pattern: unknown, path: string): void {
  if (!isObj(pattern)) throw new Error(`Invalid event pattern at ${path || '(root)'}: expected an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2)
        throw new Error(`Invalid event pattern at ${here}: $or needs 2+ patterns`);
      for (const sub of value) checkStructure(sub, here);
    } else if (Array.isArray(value)) {
      // Running each matcher against a value of every type reaches every argument check.
      for (const matcher of value) for (const probe of PROBES) matchValue(matcher, probe, true, here);
    } else {
      checkStructure(value, here);
    }
  }
}

function matchObject(pattern: Obj, event: unknown, path: string): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(expected)) throw new Error(`Invalid event pattern at ${here}: $or must be a list`);
      if (!expected.some((sub) => isObj(sub) && matchObject(sub, event, here))) return false;
      continue;
    }
    const present = isObj(event) && key in event && event[key] !== undefined;
    const actual = present ? (event as Obj)[key] : undefined;
    if (Array.isArray(expected)) {
      if (!matchLeaf(expected, actual, present, here)) return false;
    } else if (isObj(expected)) {
      if (!matchObject(expected, actual, here)) return false;
    } else {
      throw new Error(`Invalid event pattern at ${here}: a leaf must be a list of matchers`);
    }
  }
  return true;
}

function matchLeaf(matchers: unknown[], actual: unknown, present: boolean, path: string): boolean {
  if (!present) return matchers.some((m) => matchValue(m, undefined, false, path));
  // Arrays in the event: the field matches if any element does (an empty array behaves as no value).
  const values = Array.isArray(actual) ? actual : [actual];
  return matchers.some((m) => values.some((v) => matchValue(m, v, true, path)));
}

function matchValue(matcher: unknown, value: unknown, present: boolean, path: string): boolean {
  if (matcher === null || typeof matcher !== 'object') return present && equalScalar(matcher, value);
  if (Array.isArray(matcher)) throw new Error(`Invalid event pattern at ${path}: nested list`);
  const entries = Object.entries(matcher);
  const [entry] = entries;
  if (entries.length !== 1 || !entry)
    throw new Error(`Invalid event pattern at ${path}: ${JSON.stringify(matcher)}`);
  const [op, arg] = entry;
  switch (op) {
    case 'exists':
      if (typeof arg !== 'boolean')
        throw new Error(`Invalid event pattern at ${path}: exists needs true or false`);
      // An object is not a leaf: EventBridge's exists only looks at leaf values.
      return arg === (present && !isObj(value));
    case 'prefix':
      return present && typeof value === 'string' && stringMatch(arg, value, (a, v) => v.startsWith(a), path);
    case 'suffix':
      return present && typeof value === 'string' && stringMatch(arg, value, (a, v) => v.endsWith(a), path);
    case 'equals-ignore-case':
      return (
        present && typeof value === 'string' && value.toLowerCase() === text(arg, op, path).toLowerCase()
      );
    case 'wildcard':
      return present && typeof value === 'string' && wildcard(text(arg, op, path)).test(value);
    case 'numeric':
      return present && typeof value === 'number' && numeric(arg, value, path);
    case 'cidr':
      return present && typeof value === 'string' && cidr(text(arg, op, path), value, path);
    case 'anything-but':
      return present && !isObj(value) && anythingBut(arg, value, path);
    default:
      throw new Error(`Invalid event pattern at ${path}: unknown matcher ${op}`);
  }
}

function equalScalar(matcher: unknown, value: unknown): boolean {
  if (typeof matcher === 'number' && typeof value === 'number') return matcher === value;
  return matcher === value;
}

function text(arg: unknown, op: string, path: string): string {
  if (typeof arg !== 'string') throw new Error(`Invalid event pattern at ${path}: ${op} needs a string`);
  return arg;
}

/** prefix/suffix take a string or `{ "equals-ignore-case": string }`. */
function stringMatch(
  arg: unknown,
  value: string,
  test: (a: string, v: string) => boolean,
  path: string,
): boolean {
  if (typeof arg === 'string') return test(arg, value);
  if (isObj(arg) && typeof arg['equals-ignore-case'] === 'string') {
    return test(arg['equals-ignore-case'].toLowerCase(), value.toLowerCase());
  }
  throw new Error(`Invalid event pattern at ${path}: prefix/suffix need a string`);
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 's');
}

function numeric(arg: unknown, value: number, path: string): boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new Error(`Invalid event pattern at ${path}: numeric needs [op, number, ...]`);
  }
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof bound !== 'number')
      throw new Error(`Invalid event pattern at ${path}: numeric bound must be a number`);
    const ok =
      op === '<'
        ? value < bound
        : op === '<='
          ? value <= bound
          : op === '='
            ? value === bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : undefined;
    if (ok === undefined)
      throw new Error(`Invalid event pattern at ${path}: unknown numeric operator ${String(op)}`);
    if (!ok) return false;
  }
  return true;
}

function cidr(block: string, value: string, path: string): boolean {
  const toInt = (ip: string): number | undefined => {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return parts.reduce((acc, p) => acc * 256 + p, 0);
  };
  const [base, bitsText] = block.split('/');
  const bits = Number(bitsText);
  const start = toInt(base ?? '');
  if (start === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new Error(`Invalid event pattern at ${path}: cidr supports IPv4 blocks, got ${block}`);
  }
  const ip = toInt(value);
  const size = 2 ** (32 - bits);
  return ip !== undefined && Math.floor(ip / size) === Math.floor(start / size);
}

function anythingBut(arg: unknown, value: unknown, path: string): boolean {
  if (Array.isArray(arg)) return !arg.some((a) => equalScalar(a, value));
  if (isObj(arg)) {
    // anything-but wraps another matcher: { prefix }, { suffix }, { equals-ignore-case }, { wildcard }.
    const [op] = Object.keys(arg);
    if (op === 'prefix' || op === 'suffix' || op === 'equals-ignore-case' || op === 'wildcard') {
      if (typeof value !== 'string') return true;
      const inner = arg[op];
      const list = Array.isArray(inner) ? inner : [inner];
      return !list.some((one) => matchValue({ [op]: one }, value, true, path));
    }
    throw new Error(`Invalid event pattern at ${path}: anything-but does not take ${JSON.stringify(arg)}`);
  }
  return !equalScalar(arg, value);
}
