import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { cyclesOf } from '../helpers/importGraph';

/**
 * The repository's shape: no module imports itself back through others (type-only imports included: a cycle of
 * types still ties the modules' meaning together), no source file is longer than a reader can hold, 600 lines, and
 * no function outside the tests longer than 150: a longer one is split into named parts that say what they do.
 * template.yaml (one CloudFormation template) and statemachines/fanout.asl.json (one Amazon States Language
 * document, with a Comment per state) are single documents by nature and are not counted; client/ has its own,
 * tighter limit (tests/client/bundle.test.ts).
 */
const root = join(__dirname, '..', '..');
const MAX_LINES = 600;
const SOURCE = /\.(ts|mjs|cjs|js|css|html)$/;
const MAX_FUNCTION_LINES = 150;
const FUNCTION_FOLDERS = [
  'bench/',
  'client/',
  'cost/',
  'functions/',
  'infra/',
  'load/',
  'local/',
  'protocol/',
  'scripts/',
  'web/',
];
const FOLDERS = [
  'bench',
  'client',
  'cost',
  'functions',
  'infra',
  'load',
  'local',
  'protocol',
  'scripts',
  'tests',
  'web',
];

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

/** The repository file a relative import names, if it is one of ours. */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(join(root, from)), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(root, candidate);
  }
  return undefined;
}

it('has no import cycle, type-only imports included', () => {
  const modules = sourceFiles().filter((file) => /\.(ts|mjs|js)$/.test(file));
  const graph = new Map(
    modules.map((file) => [
      file,
      ts
        .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
        .importedFiles.map((i) => resolveImport(file, i.fileName))
        .filter((target): target is string => target !== undefined),
    ]),
  );
  expect(graph.get('functions/domain/limits/rateLimit.ts')).toContain('functions/domain/ports.ts');
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

it(`has no source file over ${MAX_LINES} lines`, () => {
  const files = sourceFiles();
  expect(files.length).toBeGreaterThan(200);
  const long = files
    .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > MAX_LINES);
  expect(long).toEqual([]);
});

/** Every function in a module (declarations, methods, arrows, accessors) with its length in lines, nested ones too. */
function functionLengths(file: string, text: string): { where: string; lines: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { where: string; lines: number }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      found.push({ where: `${file}:${first + 1}`, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

it('measures a function from its first line to its last', () => {
  const text = 'const a = 1;\nfunction f() {\n  const g = () => {\n    return 1;\n  };\n  return g();\n}\n';
  expect(functionLengths('x.ts', text)).toEqual([
    { where: 'x.ts:2', lines: 6 },
    { where: 'x.ts:3', lines: 3 },
  ]);
});

it(`has no function over ${MAX_FUNCTION_LINES} lines in ${FUNCTION_FOLDERS.join(', ')}`, () => {
  const files = sourceFiles().filter(
    (file) => /\.(ts|mjs|js)$/.test(file) && FUNCTION_FOLDERS.some((folder) => file.startsWith(folder)),
  );
  expect(files.length).toBeGreaterThan(50);
  const long = files
    .flatMap((file) => functionLengths(file, readFileSync(join(root, file), 'utf8')))
    .filter(({ lines }) => lines > MAX_FUNCTION_LINES);
  expect(long).toEqual([]);
});
