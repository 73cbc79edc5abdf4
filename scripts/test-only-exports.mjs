#!/usr/bin/env node
// Lists the exports of functions/ and protocol/ that no product or tool module imports: those only tests import
// ("tests"), and those nothing imports ("none"). A name used inside its own module needs no export for that. Read
// by hand: a function's `handler` is named by template.yaml, not imported, and a dynamic `import()` is not followed
// (the $connect authorizer's authSecret).
//   node scripts/test-only-exports.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { root } from './build.mjs';

const aliases = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter(
    (f) =>
      /\.(ts|mjs|js)$/.test(f) &&
      !f.endsWith('.d.ts') &&
      !f.includes('node_modules') &&
      existsSync(join(root, f)),
  );

function target(from, spec) {
  let base;
  if (spec.startsWith('#')) {
    for (const [key, path] of Object.entries(aliases)) {
      const star = key.indexOf('*');
      if (star < 0 ? spec === key : spec.startsWith(key.slice(0, star)))
        base = join(root, star < 0 ? path : path.replace('*', spec.slice(star)));
    }
  } else if (spec.startsWith('.')) base = resolve(dirname(join(root, from)), spec);
  if (!base) return undefined;
  for (const c of [base, `${base}.ts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')])
    if (existsSync(c) && statSync(c).isFile()) return relative(root, c);
  return undefined;
}

const users = new Map(); // "file#name" -> Set of importing files
const use = (file, name, by) => {
  const key = `${file}#${name}`;
  if (!users.has(key)) users.set(key, new Set());
  users.get(key).add(by);
};
const exported = [];
for (const file of files) {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(root, file), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  for (const st of source.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier) {
      const to = target(file, st.moduleSpecifier.text);
      if (!to) continue;
      const clause = ts.isImportDeclaration(st) ? st.importClause : undefined;
      if (clause?.namedBindings && ts.isNamespaceImport(clause.namedBindings)) use(to, '*', file);
      else if (clause?.namedBindings)
        for (const e of clause.namedBindings.elements) use(to, (e.propertyName ?? e.name).text, file);
      if (clause?.name) use(to, 'default', file);
      if (ts.isExportDeclaration(st)) {
        if (!st.exportClause) use(to, '*', file);
        else for (const e of st.exportClause.elements) use(to, (e.propertyName ?? e.name).text, file);
      }
    }
    if (!/^(functions|protocol)\//.test(file)) continue;
    const isExported =
      ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!isExported) continue;
    const names = ts.isVariableStatement(st)
      ? st.declarationList.declarations.map((d) => d.name.getText())
      : [st.name?.getText()];
    for (const name of names) if (name) exported.push([file, name]);
  }
}
const isTest = (f) => f.startsWith('tests/');
const rows = [];
for (const [file, name] of exported) {
  const by = [...(users.get(`${file}#${name}`) ?? []), ...(users.get(`${file}#*`) ?? [])];
  if (by.some((f) => !isTest(f))) continue;
  rows.push(
    `${by.length ? 'tests' : 'none '}  ${file}  ${name}${by.length ? `  (${[...new Set(by)].join(', ')})` : ''}`,
  );
}
console.log(rows.sort().join('\n'));
console.log(`${rows.length} exports imported by no product or tool module`);
