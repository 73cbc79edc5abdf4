/**
 * The runnable examples of docs/PROTOCOL.md: fenced blocks with the info string `wscat`, one step per line.
 *   `alice> {...}`  client `alice` (connected on first use as `?username=alice`) sends the frame;
 *   `alice< {...}`  client `alice` waits for a frame it received that holds every given field (a deep subset);
 *   `# ...`         a comment.
 * A string `"$name"` in an expected frame captures the value found there (or must equal it once captured); in a
 * sent frame it is replaced by the captured value.
 * The info string `wscat signed-in` runs the block against a stack with sign-in: each client connects with
 * `?token=<ID token>` of its name instead. Any other word after `wscat` is refused, so a typo cannot quietly turn a
 * signed-in example into an anonymous one.
 */
export interface ExampleStep {
  client: string;
  direction: 'send' | 'expect';
  frame: Record<string, unknown>;
  line: number;
}

export interface Example {
  /** The line of the opening fence, 1-based, and the nearest heading above it: how a failure names the example. */
  line: number;
  heading: string;
  /** Whether its clients connect signed in (`?token=`) rather than by `?username=`. */
  signedIn: boolean;
  steps: ExampleStep[];
}

const FENCE = /^```wscat(?:\s+(.*))?$/;
const OPTIONS = new Set(['signed-in']);
const STEP = /^([A-Za-z][A-Za-z0-9_-]{0,31})\s*([<>])\s*(\{.*\})\s*$/;

export function parseExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  let heading = '';
  let current: Example | undefined;
  lines.forEach((text, index) => {
    const line = index + 1;
    if (current === undefined) {
      const fence = FENCE.exec(text.trim());
      if (/^#{1,6} /.test(text)) heading = text.replace(/^#+ /, '');
      else if (fence !== null) current = { line, heading, signedIn: fenceOptions(fence[1], line), steps: [] };
      return;
    }
    const trimmed = text.trim();
    if (trimmed === '```') {
      examples.push(current);
      current = undefined;
      return;
    }
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = STEP.exec(trimmed);
    if (match === null) throw new Error(`PROTOCOL.md line ${line}: not a wscat step: ${text}`);
    const [, client, arrow, json] = match as unknown as [string, string, string, string];
    let frame: unknown;
    try {
      frame = JSON.parse(json);
    } catch (error) {
      throw new Error(`PROTOCOL.md line ${line}: ${(error as Error).message}`);
    }
    current.steps.push({
      client,
      direction: arrow === '>' ? 'send' : 'expect',
      frame: frame as Record<string, unknown>,
      line,
    });
  });
  if (current !== undefined) throw new Error(`PROTOCOL.md line ${current.line}: wscat block not closed`);
  return examples;
}

/** Whether the fence's words after `wscat` ask for sign-in; an unknown word is an error. */
function fenceOptions(words: string | undefined, line: number): boolean {
  const given = (words ?? '').split(/\s+/).filter((word) => word !== '');
  const unknown = given.filter((word) => !OPTIONS.has(word));
  if (unknown.length > 0)
    throw new Error(`PROTOCOL.md line ${line}: unknown wscat option ${unknown.join(' ')}`);
  return given.includes('signed-in');
}

const VARIABLE = /^\$[A-Za-z][A-Za-z0-9_]*$/;

/** The frame with each `"$name"` string replaced by its captured value. */
export function substitute(value: unknown, vars: ReadonlyMap<string, unknown>): unknown {
  if (typeof value === 'string' && VARIABLE.test(value)) {
    if (!vars.has(value)) throw new Error(`${value} is used before an expected frame captured it`);
    return vars.get(value);
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, vars));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]));
  }
  return value;
}

/**
 * Whether `actual` holds everything `expected` gives (objects: each given key; arrays: the same length, each item
 * matching a different item in any order, as a list the server orders by a coarse key such as `myrooms`' activity
 * second may tie), with the captures this match would make; `undefined` when it does not match.
 */
export function matchFrame(
  expected: unknown,
  actual: unknown,
  vars: ReadonlyMap<string, unknown>,
  captured: Map<string, unknown> = new Map(),
): Map<string, unknown> | undefined {
  if (typeof expected === 'string' && VARIABLE.test(expected)) {
    if (actual === undefined) return undefined;
    const known = vars.has(expected) ? vars.get(expected) : captured.get(expected);
    if (known !== undefined) return JSON.stringify(known) === JSON.stringify(actual) ? captured : undefined;
    captured.set(expected, actual);
    return captured;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return undefined;
    return matchItems(expected, actual, vars, captured);
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return undefined;
    for (const [key, value] of Object.entries(expected)) {
      if (matchFrame(value, (actual as Record<string, unknown>)[key], vars, captured) === undefined)
        return undefined;
    }
    return captured;
  }
  return expected === actual ? captured : undefined;
}

/** Each expected item matched to a different actual item, trying them in order and backtracking (lists are short). */
function matchItems(
  expected: unknown[],
  actual: unknown[],
  vars: ReadonlyMap<string, unknown>,
  captured: Map<string, unknown>,
): Map<string, unknown> | undefined {
  if (expected.length === 0) return captured;
  const [first, ...rest] = expected;
  for (let i = 0; i < actual.length; i++) {
    const tried = matchFrame(first, actual[i], vars, new Map(captured));
    if (tried === undefined) continue;
    const others = [...actual.slice(0, i), ...actual.slice(i + 1)];
    const all = matchItems(rest, others, vars, tried);
    if (all !== undefined) return all;
  }
  return undefined;
}
