import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Route } from '#core/features';
import { CHANGE_KINDS } from '#messages/changeKinds/index';
import { ACTIONS, CHANGE_ACTIONS, ONE_WAY_ACTIONS } from '#protocol';
import { KINDS as COST_KINDS } from '../../tools/cost/changes';
import { loadTemplate } from '../../tools/infra/template';

/**
 * docs/CONTRIBUTING.md's checklists are exact: each file they name exists, the count they state is their rows', and
 * every file that lists change kinds or routes is in its checklist and lists every existing one. A change kind or
 * route added without one of those lines fails here, naming the file.
 */
const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const contributing = read('docs/CONTRIBUTING.md');

/** A checklist: the files of its table's rows, and the count its text states. */
function checklist(heading: string): { files: string[]; stated: number } {
  const start = contributing.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`docs/CONTRIBUTING.md has no section "${heading}"`);
  const end = contributing.indexOf('\n## ', start + 1);
  const section = contributing.slice(start, end < 0 ? undefined : end);
  const files = [...section.matchAll(/^\| \d+ \| `([^`]+)` \|/gm)].map((m) => m[1] as string);
  const stated = Number(/That is \*\*(\d+) files\*\*/.exec(section)?.[1]);
  return { files, stated };
}

const template = loadTemplate(join(ROOT, 'template.yaml'));
const templateRoutes = template.webSocketApis()[0]?.routes ?? [];
const asyncapi = parse(read('protocol/asyncapi.yaml')) as {
  operations: Record<string, unknown>;
  components: { messages: Record<string, unknown> };
};
const protocolDoc = read('docs/PROTOCOL.md');
const routeRows = new Set([...protocolDoc.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]));
/** The change frames' row of PROTOCOL.md's frame table: the one naming `edited`. */
const changeFrameRow = protocolDoc.split('\n').find((line) => line.startsWith('| `edited`')) ?? '';
const clientSources = readdirSync(join(ROOT, 'client'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => read(`client/${f}`))
  .join('\n');
const coverage = read('tests/core/chatCoverage.test.ts');

/**
 * The MessageStore methods (client/messages.ts) that send `action`: those naming it, and those calling a private
 * method that does (react and unreact, through the coalescing toggle).
 */
function clientMethodsSending(action: string): string[] {
  const source = read('client/messages.ts');
  const methods = [...source.matchAll(/^ {2}(?:private )?(?:async )?(\w+)\(/gm)].map((m, i, all) => ({
    name: m[1] as string,
    isPrivate: m[0].includes('private'),
    body: source.slice(m.index, all[i + 1]?.index),
  }));
  const direct = methods.filter((m) => m.body.includes(`action: '${action}'`));
  const helpers = direct.filter((m) => m.isPrivate).map((m) => m.name);
  return methods
    .filter((m) => !m.isPrivate)
    .filter((m) => direct.includes(m) || helpers.some((h) => m.body.includes(`this.${h}(`)))
    .map((m) => m.name);
}

/** For each file that must know every change kind: whether it knows `action` (whose event frame is `event`). */
const CHANGE_KIND_LISTS: Record<string, (action: string, event: string) => boolean> = {
  'protocol/changes.ts': (action) => (CHANGE_ACTIONS as readonly string[]).includes(action),
  'protocol/asyncapi.yaml': (action, event) =>
    action in asyncapi.operations && `${event}Frame` in asyncapi.components.messages,
  'functions/messages/changeKinds/index.ts': (action) => action in CHANGE_KINDS,
  'template.yaml': (action) =>
    templateRoutes.some((r) => r.routeKey === action && r.functionLogicalId === 'MessagesFunction'),
  'client/messages.ts': (action) => clientMethodsSending(action).length > 0,
  'web/changes.js': (action) =>
    clientMethodsSending(action).some((method) =>
      new RegExp(`messages\\??\\.${method}\\(`).test(read('web/changes.js')),
    ),
  'tools/cost/changes.ts': (action) => COST_KINDS.some((kind) => kind.action === action),
  'tests/core/chatCoverage.test.ts': (action) => coverage.includes(`'${action}'`),
  'docs/PROTOCOL.md': (action, event) => routeRows.has(action) && changeFrameRow.includes(`\`${event}\``),
};

/** For each file that must know every route a client names: whether it knows `key`. */
const ROUTE_LISTS: Record<string, (key: string) => boolean> = {
  'protocol/moderation.ts': (key) => ([...ACTIONS, ...ONE_WAY_ACTIONS] as readonly string[]).includes(key),
  'protocol/asyncapi.yaml': (key) => key in asyncapi.operations,
  'functions/moderation/index.ts': (key) => declaredKeys.includes(key),
  'template.yaml': (key) => templateRoutes.some((r) => r.routeKey === key),
  'client/roomcast.ts': (key) => clientSources.includes(`action: '${key}'`),
  'tests/core/chatCoverage.test.ts': (key) => coverage.includes(`'${key}'`),
  'docs/PROTOCOL.md': (key) => routeRows.has(key),
};

/** Every route a feature declares (its index.ts `routes`), as tests/template/routes.test.ts finds them. */
const declaredKeys = readdirSync(join(ROOT, 'functions'))
  .filter((feature) => existsSync(join(ROOT, 'functions', feature, 'index.ts')))
  .flatMap(
    (feature) =>
      (require(join(ROOT, 'functions', feature, 'index.ts')) as { routes?: readonly Route[] }).routes ?? [],
  )
  .map((route) => route.key as string);
/** The routes a client names: every declared key but the gateway's own. */
const clientRoutes = declaredKeys.filter((key) => !key.startsWith('$'));

describe.each([
  { heading: 'A new change kind', lists: CHANGE_KIND_LISTS },
  { heading: 'A new room route', lists: ROUTE_LISTS },
])('the checklist "$heading"', ({ heading, lists }) => {
  const { files, stated } = checklist(heading);

  it('names files that exist, as many as it says', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
    expect(stated).toBe(files.length);
  });

  it('names every file that must list each one', () => {
    expect(Object.keys(lists).filter((file) => !files.includes(file))).toEqual([]);
  });
});

it('refuses, in each list check, a change kind or route that no file names yet', () => {
  // As a new one would be before its lines are written: every check must fail for it, or it checks nothing.
  expect(Object.entries(CHANGE_KIND_LISTS).filter(([, knows]) => knows('starmessage', 'starred'))).toEqual(
    [],
  );
  expect(Object.entries(ROUTE_LISTS).filter(([, knows]) => knows('starroom'))).toEqual([]);
});

it('finds every change kind in each file the change-kind checklist names as listing them', () => {
  expect(CHANGE_ACTIONS.length).toBeGreaterThan(0);
  const missing = CHANGE_ACTIONS.flatMap((action) =>
    Object.entries(CHANGE_KIND_LISTS)
      .filter(([, knows]) => !knows(action, CHANGE_KINDS[action].event))
      .map(([file]) => `${file} lacks ${action}`),
  );
  expect(missing).toEqual([]);
});

it("sends each route's request through the client's typed sender: no reply cast by hand", () => {
  // requests.send (client/requests.ts) types each reply from the protocol (protocol/index.ts ReplyOf), as the
  // checklist's client row says; a reply cast from an untyped send would let it drift. `info` is no action.
  const casts = [...clientSources.matchAll(/\)\) as unknown as (\w+)/g)].map((m) => m[1]);
  expect(casts).toEqual(['InfoFrame']);
  expect(contributing).toContain('through `requests.send`: its reply is typed, no cast');
});

it('finds every route a client names in each file the route checklist names as listing them', () => {
  expect(clientRoutes).toEqual(expect.arrayContaining(['slowmode', 'sendmessage', 'typing']));
  const missing = clientRoutes.flatMap((key) =>
    Object.entries(ROUTE_LISTS)
      .filter(([, knows]) => !knows(key))
      .map(([file]) => `${file} lacks ${key}`),
  );
  expect(missing).toEqual([]);
});
