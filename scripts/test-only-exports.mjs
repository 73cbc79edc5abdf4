#!/usr/bin/env node
// Lists the exports of functions/ and protocol/ that no product or tool module uses: those only tests import
// ("tests"), and those nothing imports ("none"). A module of functions/, protocol/, client/, web/, tools/ or
// scripts/ that imports a name uses it; so does template.yaml, whose Handler names the export of each function's
// entry point (scripts/build.mjs functionBuilds). A name used inside its own module needs no export for that. An
// export only tests use says why in its doc comment ("Exported for tests: <why>"); tests/build/exports.test.ts holds
// the list to that: no "none", and no undocumented "tests".
//   node scripts/test-only-exports.mjs          the list, one export a line
//   node scripts/test-only-exports.mjs --json   the same as JSON, { unused: [{ file, name, users, documented }],
//                                               computedReads }
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { functionBuilds, root } from './build.mjs';

/** The doc-comment sentence an export that only tests use carries. */
export const TEST_EXPORT_NOTE = 'Exported for tests:';

/**
 * Uses no import statement shows: each feature's `routes` (its index.ts), which tests/helpers/routeFacts.ts reads by
 * require()-ing every feature function's entry point by a computed path.
 */
const COMPUTED_READS = [{ name: 'routes', by: ['tests/helpers/routeFacts.ts'] }];

function sourceFiles() {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
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
}

const aliases = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports;
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

/**
 * The names a dynamic load takes from its module: `(await import(m)).x` and `require(m).x` take x;
 * `const { x } = await import(m)` takes x; anything else (a module kept whole) takes them all ('*').
 */
function loadedNames(call) {
  let node = call;
  while (
    ts.isAwaitExpression(node.parent) ||
    ts.isParenthesizedExpression(node.parent) ||
    ts.isAsExpression(node.parent)
  )
    node = node.parent;
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.expression === node) return [parent.name.text];
  if (ts.isVariableDeclaration(parent) && ts.isObjectBindingPattern(parent.name))
    return parent.name.elements.map((e) => (e.propertyName ?? e.name).getText());
  return ['*'];
}

/**
 * The names `file` uses of the modules it names, given to `use(module, name, file)`: its import and export-from
 * declarations, `import()` types, and `import()` / `require` calls (the names read off what they load).
 */
function recordUses(file, source, use) {
  const visit = (node) => {
    if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      const to = target(file, node.argument.literal.text);
      if (to) use(to, node.qualifier ? node.qualifier.getText().split('.')[0] : '*', file);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments.length === 1 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      const to = target(file, node.arguments[0].text);
      if (to) for (const name of loadedNames(node)) use(to, name, file);
    }
    ts.forEachChild(node, visit);
  };
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
        if (!st.exportClause)
          use(to, '**', file); // every name, passed on
        else for (const e of st.exportClause.elements) use(to, (e.propertyName ?? e.name).text, file);
      }
      continue;
    }
    visit(st);
  }
}

/** The exports of a module of functions/ or protocol/, each with whether its doc comment says why tests use it. */
function exportsOf(file, text, source) {
  const exported = [];
  for (const st of source.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier) continue;
    const isExported =
      ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (!isExported) continue;
    const comments = (ts.getLeadingCommentRanges(text, st.getFullStart()) ?? []).map((r) =>
      text.slice(r.pos, r.end),
    );
    const documented = comments.some((c) => c.startsWith('/**') && c.includes(TEST_EXPORT_NOTE));
    const names = ts.isVariableStatement(st)
      ? st.declarationList.declarations.map((d) => d.name.getText())
      : [st.name?.getText()];
    for (const name of names) if (name) exported.push({ file, name, documented });
  }
  return exported;
}

/** Every export of functions/ and protocol/ with the modules that use it. */
export function exportUsers() {
  const files = sourceFiles();
  const users = new Map(); // "file#name" -> Set of using files
  const use = (file, name, by) => {
    const key = `${file}#${name}`;
    if (!users.has(key)) users.set(key, new Set());
    users.get(key).add(by);
  };
  for (const f of functionBuilds()) {
    const exportName = f.handler.slice(f.handler.lastIndexOf('.') + 1);
    for (const entry of f.entryPoints) {
      use(relative(root, entry), exportName, 'template.yaml');
      for (const read of COMPUTED_READS) for (const by of read.by) use(relative(root, entry), read.name, by);
    }
  }
  const exported = [];
  const texts = new Map();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    texts.set(file, text);
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    recordUses(file, source, use);
    if (/^(functions|protocol)\//.test(file)) exported.push(...exportsOf(file, text, source));
  }
  const isTest = (f) => f.startsWith('tests/');
  const found = new Map(); // one row per file#name (an overloaded function is several statements)
  for (const { file, name, documented } of exported) {
    const key = `${file}#${name}`;
    // A module taken whole (`import * as m`, `typeof import(m)`, `require(m)`) uses the names its text spells.
    const whole = [...(users.get(`${file}#*`) ?? [])].filter((by) =>
      new RegExp(`\\b${name}\\b`).test(texts.get(by)),
    );
    const by = [...new Set([...(users.get(key) ?? []), ...whole, ...(users.get(`${file}#**`) ?? [])])].sort();
    const row = found.get(key);
    if (row) row.documented ||= documented;
    else found.set(key, { file, name, users: by, testOnly: !by.some((f) => !isTest(f)), documented });
  }
  return [...found.values()];
}

/** The exports no product or tool module uses: nothing at all, or only tests. */
export function unusedExports() {
  return exportUsers()
    .filter((row) => row.testOnly)
    .map(({ testOnly, ...row }) => row);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = unusedExports();
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ unused: rows, computedReads: COMPUTED_READS }));
  else {
    const line = ({ file, name, users, documented }) =>
      `${users.length ? (documented ? 'tests' : 'tests?') : 'none'}\t${file}  ${name}${users.length ? `  (${users.join(', ')})` : ''}`;
    console.log(rows.map(line).sort().join('\n'));
    const undocumented = rows.filter((r) => r.users.length && !r.documented).length;
    console.log(
      `${rows.length} exports imported by no product or tool module (${rows.filter((r) => !r.users.length).length} by nothing, ${undocumented} by tests without "${TEST_EXPORT_NOTE}")`,
    );
  }
}
