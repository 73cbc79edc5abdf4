import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The send path names no feature (functions/messages/README.md, `sendHooks.ts`): a feature takes part in a send by
 * registering a SendHook in sendFeatures.ts, so adding or removing one never edits the path every message takes.
 * The path is the files the registry's own comment names (sendmessage.ts, sending.ts, composing.ts) and the registry
 * itself. A feature's name is any of: thread (`#threads/`, functions/threads/), mention, search, word (the word
 * filter, FilterWords, search's word index), filter, and pin at a word's start (`pinmessage`; not `mapping`);
 * case-insensitive, inside longer words too (`threadOf`, `mentionKeys`), code and comments alike.
 */
const ROOT = join(__dirname, '..', '..');
const MESSAGES = 'functions/messages';
const read = (file: string) => readFileSync(join(ROOT, MESSAGES, file), 'utf8');

const REGISTRY = 'sendHooks.ts';
const FEATURE_NAMES = /thread|mention|search|word|filter|\bpin/i;

/** The files the registry's comment says are the send path: "the send path (a.ts, b.ts, c.ts)". */
function sendPath(): string[] {
  const named = /the send path \(([^)]*)\)/.exec(read(REGISTRY).replace(/\s*\n\s*\*\s*/g, ' '));
  return [...(named?.[1] ?? '').matchAll(/[\w.]+\.ts/g)].map((m) => m[0]);
}

/** Each line of `source` that names a feature, as `line: text`. */
function featureNames(source: string): string[] {
  return source
    .split('\n')
    .flatMap((line, i) => (FEATURE_NAMES.test(line) ? [`${i + 1}: ${line.trim()}`] : []));
}

it('the registry names the send path, and it holds sending.ts', () => {
  expect(sendPath()).toEqual(expect.arrayContaining(['sending.ts', 'sendmessage.ts', 'composing.ts']));
});

it.each([...sendPath(), REGISTRY])('%s names no feature', (file) => {
  expect(featureNames(read(file))).toEqual([]);
});

it("finds a feature's name where one is named", () => {
  expect(
    featureNames(readFileSync(join(ROOT, 'functions/threads/threadSend.ts'), 'utf8')).length,
  ).toBeGreaterThan(0);
  // A feature's folder imported by its alias (functions/README.md) is named too.
  expect(featureNames("import { threadSendHook } from '#threads/threadSend';")).toEqual([
    "1: import { threadSendHook } from '#threads/threadSend';",
  ]);
  expect(featureNames('const x = 1;\n  // the Word filter\n')).toEqual(['2: // the Word filter']);
});
