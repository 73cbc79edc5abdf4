import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { cyclesOf } from '../helpers/importGraph';

/**
 * The repository's shape: no module imports itself back through others (type-only imports included: a cycle of
 * types still ties the modules' meaning together). There is no cap on file or function length: caps made files split
 * by size rather than by concept, and a module is cut where its meaning divides, which review judges. client/ keeps
 * its bundle-size limit (tests/client/bundle.test.ts), which users feel.
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
