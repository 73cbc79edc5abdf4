import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { cyclesOf } from '../helpers/importGraph';

/**
 * The repository's shape: no module imports itself back through others (type-only imports included: a cycle of
 * types still ties the modules' meaning together), and the product's files and functions stay within a size a reader
 * can hold (below). client/ also keeps its bundle-size limit (tests/client/bundle.test.ts), which users feel.
 */
const root = join(__dirname, '..', '..');
const SOURCE = /\.(ts|mjs|cjs|js|css|html)$/;
const FOLDERS = ['client', 'functions', 'protocol', 'scripts', 'tests', 'tools', 'web'];

/** The repository's own files in those folders, as git knows them (nothing generated, nothing ignored). */
function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...FOLDERS], {
    cwd: root,
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter((file) => SOURCE.test(file) && !file.endsWith('.d.ts') && existsSync(join(root, file)));
}

/**
 * package.json's `imports`: the `#core/*`-style aliases, each to one path pattern (docs/DECISIONS.md, "Service
 * design").
 */
const ALIASES: Record<string, string> = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports;

/** The repository path an `#alias` specifier names (as Node, esbuild and Jest map it), if an alias matches. */
function aliasTarget(specifier: string): string | undefined {
  for (const [key, path] of Object.entries(ALIASES)) {
    const star = key.indexOf('*');
    if (star < 0 ? specifier === key : specifier.startsWith(key.slice(0, star))) {
      return join(root, star < 0 ? path : path.replace('*', specifier.slice(star)));
    }
  }
  return undefined;
}

/** The repository file a relative or `#alias` import names, if it is one of ours. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = specifier.startsWith('#')
    ? aliasTarget(specifier)
    : specifier.startsWith('.')
      ? resolve(dirname(join(root, from)), specifier)
      : undefined;
  if (base === undefined) return undefined;
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
  }
  return undefined;
}

/** Each module's import specifiers as written (static, dynamic `import()` and `require`, type-only included). */
function specifiersOf(file: string): string[] {
  return ts
    .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
    .importedFiles.map((i) => i.fileName);
}

const modules = () => sourceFiles().filter((file) => /\.(ts|mjs|js)$/.test(file));

/** The repository files `file` imports (type-only imports included), where they resolve to one. */
const importsOf = (file: string) =>
  specifiersOf(file)
    .map((specifier) => resolveImport(file, specifier))
    .filter((target): target is string => target !== undefined);

it('has no import cycle, type-only imports included', () => {
  const graph = new Map(modules().map((file) => [file, importsOf(file)]));
  expect(graph.get('functions/core/limits/rateLimit.ts')).toContain('functions/core/ports.ts');
  expect(graph.get('web/app.js')).toContain('web/state.js');
  expect(cyclesOf(graph)).toEqual([]);
});

it('finds a cycle when there is one', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', ['a.ts']],
  ]);
  expect(cyclesOf(graph)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts']);
});

/**
 * What ships (the functions, the client package, the web page, the protocol) never imports the workshops: the local
 * cloud and build tools (tools/), the scripts (scripts/) or the tests (tests/). Such an import would bundle a
 * devDependency (the local IAM's AGPL simulator, dynalite) into a Lambda or the page, or make product behaviour
 * depend on a test's stand-in. Checked on the path a relative specifier names, whether or not the file exists, so
 * `../tools/x.js` for `x.ts` counts too.
 */
const PRODUCT = ['functions/', 'client/', 'web/', 'protocol/'];
const WORKSHOPS = ['tools', 'scripts', 'tests'];

/** Each import of a product module into a workshop, as `from -> specifier`. */
function workshopImports(files: string[]): string[] {
  return files
    .filter((file) => PRODUCT.some((folder) => file.startsWith(folder)))
    .flatMap((file) =>
      specifiersOf(file)
        .filter((specifier) => {
          if (!specifier.startsWith('.')) return false;
          const [top] = relative(root, resolve(dirname(join(root, file)), specifier)).split(/[\\/]/);
          return WORKSHOPS.includes(top as string);
        })
        .map((specifier) => `${file} -> ${specifier}`),
    );
}

it('keeps the product (functions/, client/, web/, protocol/) from importing tools/, scripts/ or tests/', () => {
  const files = modules();
  expect(files).toContain('functions/deliver/index.ts');
  expect(files).toContain('web/app.js');
  expect(workshopImports(files)).toEqual([]);
});

/**
 * functions/platform/ is what any serverless service could stand on (errors of its own, settings and config,
 * Powertools, tracing, the clock, SDK clients, the invocation pipeline) and imports nothing of the chat: not core/,
 * no feature, not protocol/. Only other platform/ modules and packages. Otherwise the floors run both ways and a
 * change to a chat rule can reach every function through platform/. Each offending import as `from -> specifier`.
 */
function platformImports(files: string[], specifiers: (file: string) => string[]): string[] {
  return files
    .filter((file) => file.startsWith('functions/platform/'))
    .flatMap((file) =>
      specifiers(file)
        .filter((specifier) => {
          const isPackage = !specifier.startsWith('.') && !specifier.startsWith('#');
          if (isPackage) return false;
          const target = specifier.startsWith('#')
            ? aliasTarget(specifier)
            : resolve(dirname(join(root, file)), specifier);
          return target === undefined || !relative(root, target).startsWith('functions/platform/');
        })
        .map((specifier) => `${file} -> ${specifier}`),
    );
}

it('keeps functions/platform/ from importing the chat: only platform/ modules and packages', () => {
  const files = modules();
  expect(files).toContain('functions/platform/config.ts');
  expect(platformImports(files, specifiersOf)).toEqual([]);
});

it('names a platform module that imports the chat', () => {
  const planted: Record<string, string[]> = {
    'functions/platform/config.ts': ['node:path', '@aws-sdk/client-ssm', './settings', '#platform/clock'],
    'functions/platform/aws/clients.ts': [
      '#core/ports',
      '../../core/errors',
      '../../../protocol',
      '#unknown/x',
    ],
  };
  expect(platformImports(Object.keys(planted), (file) => planted[file] ?? [])).toEqual([
    'functions/platform/aws/clients.ts -> #core/ports',
    'functions/platform/aws/clients.ts -> ../../core/errors',
    'functions/platform/aws/clients.ts -> ../../../protocol',
    'functions/platform/aws/clients.ts -> #unknown/x',
  ]);
});

/**
 * The folders of functions/ (each feature, core/, platform/) and protocol/ import each other one way only: a feature
 * may use another's rule or store, never one that uses it back. A cycle between two features ties their bundles
 * and their changes together; what several features need belongs in core/ (functions/README.md says who may import
 * whom). The graph is of folders: an edge for any import of a module of one from a module of another.
 */
function folderOf(file: string): string | undefined {
  const [top, folder] = file.split('/');
  if (top === 'protocol') return 'protocol';
  return top === 'functions' && folder !== undefined && !folder.includes('.')
    ? `functions/${folder}`
    : undefined;
}

function folderGraph(files: string[], imports: (file: string) => string[]): Map<string, string[]> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of imports(file)) {
      const to = folderOf(target);
      if (to !== undefined && to !== from) edges.add(to);
    }
  }
  return new Map([...graph].map(([folder, edges]) => [folder, [...edges].sort()]));
}

it('has no import cycle between the folders of functions/ (each feature, core/, platform/) and protocol/', () => {
  const graph = folderGraph(modules(), importsOf);
  expect(graph.get('functions/rooms')).toContain('functions/messages');
  expect(graph.get('functions/people')).toContain('functions/rooms');
  expect(cyclesOf(graph)).toEqual([]);
  // core/ is what every feature stands on: it imports platform/ and protocol/, no feature.
  expect(
    graph.get('functions/core')?.filter((to) => to !== 'functions/platform' && to !== 'protocol'),
  ).toEqual([]);
});

it('finds a cycle between two feature folders through any of their modules', () => {
  const planted: Record<string, string[]> = {
    'functions/rooms/joining.ts': ['functions/messages/roomHistory.ts', 'functions/core/ports.ts'],
    'functions/messages/threads.ts': ['functions/messages/ports.ts', 'functions/core/ports.ts'],
    'functions/messages/sendmessage.ts': ['functions/rooms/rooms.ts'],
    'functions/core/ports.ts': ['protocol/index.ts'],
  };
  expect(cyclesOf(folderGraph(Object.keys(planted), (file) => planted[file] ?? []))).toEqual([
    'functions/rooms -> functions/messages -> functions/rooms',
  ]);
});

/**
 * The product's size: no source file of functions/, protocol/, client/ (its sources, not dist/) or web/ over
 * FILE_LINES lines, no function over FUNCTION_LINES. Past that a reader cannot hold a file or a function in view,
 * and one that long mixes several rules: it is cut where its meaning divides, the caps say when to look for the cut.
 * A function's length is its lines from first to last, functions nested in it counted in it as they are in the text.
 */
const FILE_LINES = 500;
const FUNCTION_LINES = 80;

/** The product's sources as git knows them: client/dist and declaration files are built, not written. */
function productSources(): string[] {
  return sourceFiles().filter(
    (file) =>
      /^(functions|protocol)\/.+\.ts$/.test(file) ||
      /^client\/[^/]+\.ts$/.test(file) ||
      /^web\/[^/]+\.js$/.test(file),
  );
}

/** Each file over FILE_LINES and each function over FUNCTION_LINES in `text`, as `file:line: what (n lines)`. */
function oversized(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line + 1;
  const found: string[] = [];
  const lines = lineOf(source.getEnd() - (text.endsWith('\n') ? 1 : 0));
  if (lines > FILE_LINES) found.push(`${file}: file (${lines} lines)`);
  const visit = (node: ts.Node) => {
    if (
      ts.isFunctionDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isArrowFunction(node) ||
      ts.isFunctionExpression(node) ||
      ts.isConstructorDeclaration(node)
    ) {
      const start = lineOf(node.getStart(source));
      const length = lineOf(node.getEnd()) - start + 1;
      const named = node.name ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name : undefined);
      const name = named?.getText(source) ?? 'function';
      if (length > FUNCTION_LINES) found.push(`${file}:${start}: ${name} (${length} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

it(`keeps product files within ${FILE_LINES} lines and functions within ${FUNCTION_LINES}`, () => {
  const files = productSources();
  expect(files).toContain('functions/messages/sending.ts');
  expect(files).toContain('web/emojiPicker.js');
  expect(files).toContain('client/members.ts');
  expect(files).not.toContainEqual(expect.stringMatching(/^client\/dist\/|\.d\.ts$/));
  expect(files.flatMap((file) => oversized(file, readFileSync(join(root, file), 'utf8')))).toEqual([]);
});

it('names an oversized function and file by file:line', () => {
  const body = Array.from({ length: FUNCTION_LINES - 1 }, (_, i) => `  const a${i} = ${i};`).join('\n');
  const fits = `export function fits() {\n${body.split('\n').slice(1).join('\n')}\n}\n`;
  const long = `const x = 1;\nexport const long = () => {\n${body}\n};\n`;
  expect(oversized('a.ts', fits)).toEqual([]);
  expect(oversized('b.ts', long)).toEqual([`b.ts:2: long (${FUNCTION_LINES + 1} lines)`]);
  expect(oversized('c.ts', `${'\n'.repeat(FILE_LINES)}x;\n`)).toEqual([
    `c.ts: file (${FILE_LINES + 1} lines)`,
  ]);
});
