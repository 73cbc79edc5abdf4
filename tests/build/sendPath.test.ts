import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The paths every message and every change take name no feature (functions/messages/README.md): a feature takes part
 * by registering with the path's extension points, so adding or removing one never edits the path itself.
 * - sending a message: a SendHook (`sendHooks.ts`), registered in sendFeatures.ts;
 * - changing a message: a ChangeHook (`changeHooks.ts`), registered in changeFeatures.ts;
 * - reading `history`: a HistoryPage (`historyPages.ts`), registered in historyFeatures.ts;
 * - a message's frame: a MessagePart (`changeHooks.ts`), registered in messageParts.ts.
 * Each path is the files its registry's own comment names ("the send path (a.ts, b.ts)") and the registry itself. A
 * feature's name is any of: thread (`#threads/`, functions/threads/), mention, search, word (the word filter,
 * FilterWords, search's word index), filter (not an array's `.filter`), and pin at a word's start (`pinmessage`; not `mapping`);
 * case-insensitive, inside longer words too (`threadOf`, `mentionKeys`), code and comments alike. Pins are a kind of
 * change (changeKinds/index.ts) whose cap the change path reads, so the change path is held to the other names; a
 * message's frame shows the fields the message was sent with, `mentions` among them (hidden on a delete as its text
 * is), so it is held to the names but mentions.
 */
const ROOT = join(__dirname, '..', '..');
const MESSAGES = 'functions/messages';
const read = (file: string) => readFileSync(join(ROOT, MESSAGES, file), 'utf8');

const FEATURE_NAMES = /thread|mention|search|word|(?<!\.)filter|\bpin/i;
const BUT_PINS = /thread|mention|search|word|(?<!\.)filter/i;
const BUT_MENTIONS = /thread|search|word|(?<!\.)filter|\bpin/i;

const PATHS = [
  { registry: 'sendHooks.ts', path: 'the send path', names: FEATURE_NAMES },
  { registry: 'changeHooks.ts', path: 'the change path', names: BUT_PINS },
  { registry: 'historyPages.ts', path: 'the history route', names: FEATURE_NAMES },
  { registry: 'changeHooks.ts', path: "a message's frame", names: BUT_MENTIONS },
];

/** The files the registry's comment says are its path: "the send path (a.ts, b.ts, c.ts)". */
function pathOf(registry: string, path: string): string[] {
  const named = new RegExp(`${path} \\(([^)]*)\\)`).exec(read(registry).replace(/\s*\n\s*\*\s*/g, ' '));
  return [...(named?.[1] ?? '').matchAll(/[\w.]+\.ts/g)].map((m) => m[0]);
}

/** Each line of `source` that names a feature, as `line: text`. */
function featureNames(source: string, names = FEATURE_NAMES): string[] {
  return source.split('\n').flatMap((line, i) => (names.test(line) ? [`${i + 1}: ${line.trim()}`] : []));
}

it("each registry names its path, and it holds the path's own files", () => {
  expect(pathOf('sendHooks.ts', 'the send path')).toEqual(
    expect.arrayContaining(['sending.ts', 'sendmessage.ts', 'composing.ts']),
  );
  expect(pathOf('changeHooks.ts', 'the change path')).toEqual(
    expect.arrayContaining(['changing.ts', 'changeAnswers.ts']),
  );
  expect(pathOf('historyPages.ts', 'the history route')).toEqual(['history.ts']);
  expect(pathOf('changeHooks.ts', "a message's frame")).toEqual(['changeFrames.ts']);
});

const files = PATHS.flatMap(({ registry, path, names }) =>
  [...pathOf(registry, path), registry].map((file) => ({ file, names })),
);

it.each(files)('$file names no feature', ({ file, names }) => {
  expect(featureNames(read(file), names)).toEqual([]);
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
  expect(featureNames("import { reindex } from '#search/searching';", BUT_PINS)).toHaveLength(1);
  expect(featureNames('// A pin reads the pins', BUT_PINS)).toEqual([]);
  expect(featureNames("import { threadShown } from '#threads/threadShown';", BUT_MENTIONS)).toHaveLength(1);
  expect(featureNames('const { replyTo, mentions } = message;', BUT_MENTIONS)).toEqual([]);
  expect(featureNames('const kept = given.filter((r) => r !== gone);')).toEqual([]);
});
