#!/usr/bin/env node
// Builds @roomcast/client into client/dist/: the library as an ES module (index.mjs, also the browser build: it
// has no dependency and touches no Node built-in) and as CommonJS (index.cjs), and its type declarations as one
// file with the protocol's types inlined (protocol/ stays their single definition), as index.d.mts and index.d.cts.
// `--no-types` skips the declarations (the repository's own build: its TypeScript reads the sources).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'index.ts');
export const clientDist = join(here, 'dist');

const common = {
  entryPoints: [entry],
  bundle: true,
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
};

/** esbuild's options for the browser build, the web site's roomcast.js (scripts/build.mjs buildSite adds outfile). */
export const browserClient = { ...common, platform: 'browser', format: 'esm' };

/** The two JavaScript builds of the package. */
export async function buildClientJs() {
  await Promise.all([
    build({ ...common, platform: 'neutral', format: 'esm', outfile: join(clientDist, 'index.mjs') }),
    build({ ...common, platform: 'node', format: 'cjs', outfile: join(clientDist, 'index.cjs') }),
  ]);
}

/** One declaration file for the package (dts-bundle-generator), the same for `import` and `require`. */
export async function buildClientTypes() {
  const { generateDtsBundle } = await import('dts-bundle-generator');
  const [dts] = generateDtsBundle(
    [{ filePath: entry, output: { noBanner: true, exportReferencedTypes: false } }],
    {
      preferredConfigPath: join(here, 'tsconfig.json'),
    },
  );
  mkdirSync(clientDist, { recursive: true });
  writeFileSync(join(clientDist, 'index.d.mts'), dts);
  copyFileSync(join(clientDist, 'index.d.mts'), join(clientDist, 'index.d.cts'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildClientJs();
  if (!process.argv.includes('--no-types')) await buildClientTypes();
}
