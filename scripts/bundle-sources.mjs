#!/usr/bin/env node
// Per function of template.yaml, how much of our own code (functions/, protocol/) its bundle holds, from esbuild's
// metafile with the build's own options (scripts/build.mjs): the modules its entry point imports ("imported": what
// esbuild reads) and the modules with code in the output ("in bundle": what tree-shaking keeps), in files and lines.
//   node scripts/bundle-sources.mjs [LogicalId]     with a LogicalId: its modules too, * marking those in the bundle
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { functionBuilds, root } from './build.mjs';

const only = process.argv[2];
const lines = (files) =>
  files.reduce((n, f) => n + (readFileSync(join(root, f), 'utf8').match(/\n/g) ?? []).length, 0);
console.log('| function | imported: files / lines | in bundle: files / lines |\n|---|---|---|');
for (const f of functionBuilds()) {
  if (only && f.logicalId !== only) continue;
  const { metafile } = await build({
    ...f.options,
    entryPoints: f.entryPoints,
    outdir: f.outdir,
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const ours = (file) => !file.includes('node_modules');
  const imported = Object.keys(metafile.inputs).filter(ours);
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const kept = Object.entries(output?.inputs ?? {})
    .filter(([file, input]) => ours(file) && input.bytesInOutput > 0)
    .map(([file]) => file);
  const n = (x) => x.toLocaleString('en-US');
  console.log(
    `| ${f.logicalId} | ${imported.length} / ${n(lines(imported))} | ${kept.length} / ${n(lines(kept))} |`,
  );
  if (only) for (const file of imported.sort()) console.log(`  ${kept.includes(file) ? '*' : ' '} ${file}`);
}
