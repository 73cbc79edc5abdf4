import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { loadTemplate } from '../../tools/infra/template';

/**
 * `npm run build` must produce, for every function of template.yaml, the bundle `sam build` would: the file named
 * by the Handler, exporting the handler function, with no dependency left outside the bundle. Jest's global set-up
 * (tests/setup/build.js) has just built dist/ from the current sources; this file does not build it again, as
 * rewriting dist/ would pull the bundles from under the tests another worker runs at the same time.
 */
const root = join(__dirname, '..', '..');
const template = loadTemplate(join(root, 'template.yaml'));

describe.each(template.functions().map((fn) => [fn.logicalId, fn] as const))('%s', (_id, fn) => {
  const [moduleName, exportName] = fn.handler.split('.') as [string, string];
  const bundle = join(root, 'dist', 'functions', fn.logicalId, `${moduleName}.js`);

  it('is bundled from its esbuild entry point, with its source map kept beside it as a build artefact', () => {
    expect(existsSync(fn.entryPoint)).toBe(true);
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.map`)).toBe(true);
  });

  // A deployed function never parses a source map: its package has none (samBuild.test.ts), and a stack's first
  // formatting would otherwise read the whole 3-4 MB map (tens of ms on a cold start, in docs/MEASUREMENTS.md).
  it('runs without --enable-source-maps', () => {
    expect(fn.environment.NODE_OPTIONS ?? '').not.toMatch(/source-maps/);
  });

  // The SDK's HTTP handler loads node:http with `await import()`; in a CommonJS function the first dynamic import
  // starts Node's ES module loader (and undici) during the cold start's first request (scripts/build.mjs).
  it("loads Node's modules with require(), never a dynamic import()", () => {
    expect(readFileSync(bundle, 'utf8').match(/\bimport\(/g) ?? []).toEqual([]);
  });

  it('exports its handler and loads without node_modules', () => {
    // Copied away from the project's node_modules, as in a Lambda package: only built-ins may be required.
    const alone = join(mkdtempSync(join(tmpdir(), 'roomcast-bundle-')), `${moduleName}.js`);
    copyFileSync(bundle, alone);
    const script = `const m = require(${JSON.stringify(alone)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: '/',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    }).toString();
    expect(out).toBe('function');
    expect(statSync(bundle).size).toBeLessThan(3 * 1024 * 1024);
  });
});

/**
 * The adapters of other features each function's bundle imports, and the route that needs each. A function bundles
 * its own feature, core/, platform/ and protocol/; of another feature, only an adapter one of its routes calls
 * through a narrow port (functions/README.md). An adapter is a module of functions/ that imports an @aws-sdk
 * package. A module counts when the function's entry point reaches it through imports esbuild follows (type-only
 * imports are dropped), even if esbuild then finds no code of it to keep: what a wiring imports is what the
 * function depends on. One pulled in through another feature's wiring, or a new need, changes this list.
 */
const FOREIGN_ADAPTERS: Record<string, string[]> = {
  AttachmentsFunction: [],
  AuthorizerFunction: [],
  BroadcastAuthorizerFunction: [],
  BroadcastFunction: [],
  ConnectionFunction: [],
  // The fan-out writes search's word index after a turn's posts (search/indexing.ts).
  DeliverFunction: ['search/dynamoWords.ts'],
  // The word filter's audit row and a DM's blocks (safety/screening.ts); the avatars of history's authors.
  MessagesFunction: [
    'attachments/s3Head.ts',
    'attachments/s3Read.ts',
    // pinmessage's write of the room's pins item, and a delete's unpin (functions/pins/).
    'pins/dynamoPins.ts',
    'safety/audit.ts',
    'safety/dynamoDmBlocks.ts',
    // search's route, and an edit's or delete's reindex (functions/search/).
    'search/dynamoWords.ts',
    // followthread, mythreads, threadread, a thread's page and a reply's part in a send (functions/threads/).
    'threads/dynamoFollowed.ts',
    'threads/dynamoThreadRoots.ts',
    'threads/dynamoThreads.ts',
  ],
  // opendm joins the pair's room (rooms/joining.ts: the entry, the membership, the backlog with its reactions,
  // pins and authors' avatars) after the pair's blocks.
  PeopleFunction: [
    'attachments/s3Head.ts',
    'attachments/s3Read.ts',
    'messages/dynamoMessages.ts',
    'messages/dynamoReactions.ts',
    'pins/dynamoPins.ts',
    'rooms/dynamoEntry.ts',
    'rooms/dynamoMemberships.ts',
    'safety/dynamoDmBlocks.ts',
  ],
  // A push names a thread's followers (its root's item), resolves `@name`s in the PeopleIndex and skips a person
  // who blocks the author (their block list).
  PushFunction: ['people/dynamoPeople.ts', 'safety/dynamoBlocks.ts', 'threads/dynamoThreadRoots.ts'],
  ReadingFunction: [],
  // joinroom and subscribe give the room's backlog: messages, reactions, pins, the authors' avatars.
  RoomsFunction: [
    // setprofile's avatar: its upload read back and copied, a cleared one deleted (attachments/avatars.ts).
    'attachments/s3Avatars.ts',
    'attachments/s3Head.ts',
    'attachments/s3Read.ts',
    // listrooms, setroom, createroom's name and setprofile's store: the DirectoryTable (functions/directory/).
    'directory/dynamoDirectory.ts',
    'messages/dynamoMessages.ts',
    'messages/dynamoReactions.ts',
    'pins/dynamoPins.ts',
  ],
  SafetyFunction: [],
  // Typing frames are posted within the fan-out's posting budget (deliver/postBudget.ts).
  TypingFunction: ['deliver/dynamoPostBudget.ts', 'deliver/dynamoWrites.ts'],
};

/**
 * The repository modules each entry point's bundle imports, by entry point: one esbuild pass over all of them
 * (metafile only), then each entry's import closure over the metafile's resolved imports.
 */
async function importClosures(entryPoints: string[]): Promise<Map<string, string[]>> {
  const { metafile } = await build({
    entryPoints,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    // Packages stay outside: the closures are of the repository's modules, and no package imports one, so parsing
    // the AWS SDK and the rest of node_modules (three quarters of the pass's CPU) would add nothing to them.
    packages: 'external',
    write: false,
    metafile: true,
    outdir: join(root, 'dist', 'metafile-only'),
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const closures = new Map<string, string[]>();
  for (const entry of entryPoints) {
    const start = relative(root, entry);
    const seen = new Set([start]);
    const next = [start];
    for (let file = next.pop(); file !== undefined; file = next.pop())
      for (const { path, external } of metafile.inputs[file]?.imports ?? [])
        if (!external && !seen.has(path)) {
          seen.add(path);
          next.push(path);
        }
    closures.set(
      entry,
      [...seen].filter((file) => !file.includes('node_modules')),
    );
  }
  return closures;
}

/** Whether a module calls AWS: it imports an @aws-sdk package. */
const isAdapter = (file: string) =>
  ts
    .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    .importedFiles.some((i) => i.fileName.startsWith('@aws-sdk/'));

/** The adapters of feature folders other than `own` (core/ and platform/ are every feature's) among `modules`. */
function foreignAdapters(own: string, modules: string[]): string[] {
  return modules
    .filter((file) => {
      const [top, folder] = file.split('/');
      return top === 'functions' && ![own, 'core', 'platform'].includes(folder as string);
    })
    .filter(isAdapter)
    .map((file) => file.slice('functions/'.length))
    .sort();
}

describe("each function's bundle and other features' adapters", () => {
  const functions = template.functions();
  let closures: Map<string, string[]>;
  // esbuild resolves every function's imports (13 entry points): seconds on a loaded 2-core machine, so the hook has
  // more than jest's 30 s default; nothing here is timed.
  beforeAll(async () => {
    closures = await importClosures(functions.map((fn) => fn.entryPoint));
  }, 240_000);

  it('lists every function of the template', () => {
    expect(Object.keys(FOREIGN_ADAPTERS).sort()).toEqual(functions.map((fn) => fn.logicalId).sort());
  });

  it.each(functions.map((fn) => [fn.logicalId, fn] as const))(
    '%s imports only the adapters of other features its routes use',
    (id, fn) => {
      const own = relative(join(root, 'functions'), fn.entryPoint).split('/')[0] as string;
      const modules = closures.get(fn.entryPoint) ?? [];
      expect(modules).toContain(`functions/${own}/index.ts`);
      expect(foreignAdapters(own, modules)).toEqual(FOREIGN_ADAPTERS[id]);
    },
  );
});
