import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHANGE_KINDS } from '#messages/changeKinds/index';
import { ACTIONS, CHANGE_ACTIONS, ONE_WAY_ACTIONS, REPLY_TYPE } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';
import { ACTION_FACTS, isTwoWay } from '../helpers/routeFacts';

/**
 * docs/CONTRIBUTING.md's checklists are exact: each file they name exists, the count they state is their numbered
 * rows', every file that lists change kinds or routes is in its checklist and lists every existing one, and every
 * other file such a change touches (its web module, web/index.html for a new feature's module, docs/CLIENT.md,
 * protocol/index.ts for a new protocol module) is a row. A change kind or route added without one of those lines fails here, naming the file and the route; the
 * routes are read from their declarations (tests/helpers/routeFacts.ts).
 */
const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const contributing = read('docs/CONTRIBUTING.md');

/**
 * A checklist: the files of its table's numbered rows, the count its text states, and the files of its rows marked
 * `if` (touched only when the change needs them, as protocol/index.ts for a new protocol module).
 */
function checklist(heading: string): { files: string[]; stated: number; when: string[] } {
  const start = contributing.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`docs/CONTRIBUTING.md has no section "${heading}"`);
  const end = contributing.indexOf('\n## ', start + 1);
  const section = contributing.slice(start, end < 0 ? undefined : end);
  const files = [...section.matchAll(/^\| \d+ \| `([^`]+)` \|/gm)].map((m) => m[1] as string);
  const when = [...section.matchAll(/^\| if \| `([^`]+)` \|/gm)].map((m) => m[1] as string);
  const stated = Number(/That is \*\*(\d+) files\*\*/.exec(section)?.[1]);
  return { files, stated, when };
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
const clientDoc = read('docs/CLIENT.md');
/**
 * Whether the coverage walk asks every change action of the protocol (one request each, its fields from AsyncAPI's
 * request message), so a change kind needs no line of its own there.
 */
const coverageCallsEveryChange = /for \(const action of CHANGE_ACTIONS\)[\s\S]*request\(action,/.test(
  coverage,
);
/**
 * Whether the coverage walk asks every room route a client is answered on (scope `room`, not one-way) that it does
 * not ask by hand, its fields from AsyncAPI's request message, so a room route needs no line of its own there.
 */
const coverageAsksEveryRoomRoute =
  /ACTION_FACTS\.filter\(\(fact\) => fact\.scope === 'room' && isTwoWay\(fact\)\)/.test(coverage) &&
  /for \(const \{ key \} of rest\) await alice\.expectReply\(request\(key,/.test(coverage);
const isRoomRoute = (key: string) =>
  ACTION_FACTS.some((fact) => fact.key === key && fact.scope === 'room' && isTwoWay(fact));
/** The actions each protocol module lists (its `*_ACTIONS`), before protocol/index.ts joins them into ACTIONS. */
const moduleActions = readdirSync(join(ROOT, 'protocol'))
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .flatMap((f) =>
    Object.entries(require(join(ROOT, 'protocol', f)) as Record<string, unknown>)
      .filter(([name, value]) => name.endsWith('_ACTIONS') && Array.isArray(value))
      .flatMap(([, value]) => value as string[]),
  );
/** The actions protocol/index.ts lists itself, the rooms' and messages' core ones, before it joins the modules'. */
const indexActions = [
  ...(/export const ACTIONS = \[([^\]]*)\]/.exec(read('protocol/index.ts'))?.[1] ?? '').matchAll(/'(\w+)'/g),
].map((m) => m[1]);

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
  'docs/CLIENT.md': (action) =>
    clientMethodsSending(action).some((method) => new RegExp(`[.\`]${method}\\b`).test(clientDoc)),
  'docs/PROTOCOL.md': (action, event) => routeRows.has(action) && changeFrameRow.includes(`\`${event}\``),
};

/** For each file that must know every route a client names: whether it knows `key`. */
const ROUTE_LISTS: Record<string, (key: string) => boolean> = {
  'protocol/moderation.ts': (key) => moduleActions.includes(key) || indexActions.includes(key),
  // The joined lists: a new protocol module's actions are in ACTIONS (or ONE_WAY_ACTIONS) and REPLY_TYPE only once
  // index.ts spreads them.
  'protocol/index.ts': (key) =>
    (ONE_WAY_ACTIONS as readonly string[]).includes(key) ||
    ((ACTIONS as readonly string[]).includes(key) && key in REPLY_TYPE),
  'protocol/asyncapi.yaml': (key) => key in asyncapi.operations,
  'functions/moderation/index.ts': (key) => clientRoutes.includes(key),
  'template.yaml': (key) => templateRoutes.some((r) => r.routeKey === key),
  'client/roomcast.ts': (key) => clientSources.includes(`action: '${key}'`),
  'tests/core/chatCoverage.test.ts': (key) =>
    coverage.includes(`'${key}'`) ||
    (coverageCallsEveryChange && (CHANGE_ACTIONS as readonly string[]).includes(key)) ||
    (coverageAsksEveryRoomRoute && isRoomRoute(key)),
  'docs/PROTOCOL.md': (key) => routeRows.has(key),
};

/** The routes a client names: every declared key but the gateway's own. */
const clientRoutes = ACTION_FACTS.map((fact) => fact.key);

/**
 * The files a change touches that hold no list of every route or kind, each a pattern its checklist must name in a
 * row, and why: the web chat's control, the client library's page, and the protocol's joined lists.
 */
const ALSO_TOUCHED: Record<string, Record<string, RegExp>> = {
  'A new change kind': {
    // The change kind's control and mark in the web chat is checked by web/changes.js's list above.
    'the client method in docs/CLIENT.md': /^docs\/CLIENT\.md$/,
  },
  'A new room route': {
    "the control in the web chat (its feature's web module)": /^web\/\w+\.js$/,
    "index.html, loading a new feature's web module that registers itself": /^web\/index\.html$/,
    'the client method in docs/CLIENT.md': /^docs\/CLIENT\.md$/,
    "protocol/index.ts, for a new protocol module's lists": /^protocol\/index\.ts$/,
  },
};

describe.each([
  { heading: 'A new change kind', lists: CHANGE_KIND_LISTS },
  { heading: 'A new room route', lists: ROUTE_LISTS },
])('the checklist "$heading"', ({ heading, lists }) => {
  const { files, stated, when } = checklist(heading);
  const rows = [...files, ...when];

  it('names files that exist, as many as it says', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(rows.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
    expect(stated).toBe(files.length);
  });

  it('names every file that must list each one', () => {
    expect(Object.keys(lists).filter((file) => !rows.includes(file))).toEqual([]);
  });

  it('names every other file such a change touches', () => {
    const also = Object.entries(ALSO_TOUCHED[heading] ?? {});
    expect(also.length).toBeGreaterThan(0);
    expect(
      also.filter(([, file]) => !rows.some((row) => file.test(row))).map(([what]) => `no row for ${what}`),
    ).toEqual([]);
  });
});

it('refuses, in each list check, a change kind or route that no file names yet', () => {
  // As a new one would be before its lines are written: every check must fail for it, or it checks nothing. The
  // names are none a route would take, so a real new route (a dry run's `starmessage`) never meets them.
  expect(
    Object.entries(CHANGE_KIND_LISTS).filter(([, knows]) => knows('unnamedkind', 'unnamedframe')),
  ).toEqual([]);
  expect(Object.entries(ROUTE_LISTS).filter(([, knows]) => knows('unnamedroute'))).toEqual([]);
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
