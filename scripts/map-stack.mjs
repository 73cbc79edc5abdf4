#!/usr/bin/env node
// Maps a deployed function's stack trace back to the TypeScript sources. The functions run their minified bundle
// without source maps (template.yaml Globals), so a stack in CloudWatch Logs names lines of /var/task/index.js; the
// build keeps each bundle's map in dist/functions/<LogicalId>/index.js.map (scripts/build.mjs). esbuild's output is
// the same for the same sources, so build the commit that was deployed first (`git checkout <commit> && npm ci &&
// npm run build`), then:
//   node scripts/map-stack.mjs <LogicalId> [file]     the stack from the file, or from stdin
// Prints the stack with each `index.js:<line>:<column>` frame replaced by its source file, line and column.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { root } from './build.mjs';

const [logicalId, file] = process.argv.slice(2);
if (!logicalId) {
  console.error(
    'usage: node scripts/map-stack.mjs <LogicalId> [file with the stack]   (stdin without a file)',
  );
  process.exit(2);
}
const mapPath = join(root, 'dist', 'functions', logicalId, 'index.js.map');
if (!existsSync(mapPath)) {
  console.error(`${relative(root, mapPath)} is missing: run npm run build at the commit that was deployed`);
  process.exit(1);
}
const map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')));
const stack = readFileSync(file ?? 0, 'utf8');

/** A frame's position in the bundle (1-based, as Node prints it) as `source:line:column`, or undefined. */
function original(line, column) {
  const entry = map.findEntry(line - 1, column - 1);
  if (!entry?.originalSource) return undefined;
  const source = relative(root, resolve(dirname(mapPath), entry.originalSource));
  return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}

process.stdout.write(
  stack.replace(
    /(?:[^\s()]*\/)?index\.js:(\d+):(\d+)/g,
    (frame, line, column) => original(Number(line), Number(column)) ?? frame,
  ),
);
