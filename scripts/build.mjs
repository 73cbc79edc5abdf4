#!/usr/bin/env node
// Builds every function of template.yaml from its Metadata.BuildProperties (entry points, target, format, minify,
// source map) into dist/functions/<LogicalId>/ (the bundle and its map: the local cloud runs the bundle, with
// source-mapped stacks), the local cloud into dist/local/, and the web chat's static site
// into dist/web/: the one folder the local cloud serves and `npm run publish-web` uploads.
//   node scripts/build.mjs [--quiet]
//   node scripts/build.mjs --site [--quiet]                     the static site only (what publish-web runs)
//   node scripts/build.mjs --function <LogicalId> --outdir <dir>   one function only: what `sam build` runs through
//                                                                the Makefile (Metadata BuildMethod: makefile); the
//                                                                bundle to <dir>, its map to dist/functions/<LogicalId>/
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { browserClient, buildClientJs } from '../client/build.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

// The build reads only literal values (Metadata, CodeUri, Handler), so CloudFormation's short-form tags (!Ref,
// !Sub, ...) need no meaning here: they are parsed as plain values, without a warning for each.
export function functionBuilds(templatePath = join(root, 'template.yaml')) {
  const template = parse(readFileSync(templatePath, 'utf8'), { logLevel: 'silent' });
  const globals = template.Globals?.Function ?? {};
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function' && r.Metadata?.BuildMethod === 'makefile')
    .map(([logicalId, r]) => {
      const props = r.Metadata.BuildProperties ?? {};
      const codeUri = r.Properties?.CodeUri ?? globals.CodeUri ?? '.';
      const entryPoints = (props.EntryPoints ?? []).map((e) => join(dirname(templatePath), codeUri, e));
      if (entryPoints.length === 0)
        throw new Error(`${logicalId}: Metadata.BuildProperties.EntryPoints is missing`);
      return {
        logicalId,
        entryPoints,
        // module.export of the entry point's bundle the runtime calls (Handler: index.handler).
        handler: r.Properties?.Handler ?? globals.Handler,
        outdir: join(root, 'dist', 'functions', logicalId),
        options: {
          bundle: true,
          platform: 'node',
          target: props.Target ?? 'es2022',
          format: props.Format ?? 'cjs',
          minify: props.Minify ?? true,
          sourcemap: props.Sourcemap ?? false,
          external: props.External ?? [],
          // The packages' ES module builds first: the AWS SDK's CommonJS entry of a client is one file holding
          // every command (client-ssm 211 KB for the one GetParameter), which a bundler cannot drop from; its
          // `module` build is one file per command and schema, so only what is imported is bundled (the SDK's
          // bundling advice, and SAM's esbuild `MainFields: module,main`). 10.0 MB of bundles became 6.4 MB.
          mainFields: ['module', 'main'],
          // `import()` written as `require()` (the bundles are CommonJS and import only Node's own modules at run
          // time): the SDK's HTTP handler loads `node:http` with `await import()`, and the first dynamic import in
          // a CommonJS process starts Node's ES module loader (and undici with it) during the first request: ~55 ms
          // more than a require() on Node 24 here, in every local Lambda thread. (On AWS the runtime's own entry is
          // an ES module, so the loader may be running already.)
          supported: { 'dynamic-import': false },
        },
      };
    });
}

/** The NODE_OPTIONS every deployed function runs with: template.yaml's Globals ('' when it sets none). */
export function shippedNodeOptions(templatePath = join(root, 'template.yaml')) {
  const template = parse(readFileSync(templatePath, 'utf8'), { logLevel: 'silent' });
  return template.Globals?.Function?.Environment?.Variables?.NODE_OPTIONS ?? '';
}

/**
 * `sam build`'s step for one function: its bundle alone into the folder SAM packages (ARTIFACTS_DIR), and its source
 * map, when Metadata asks for one, into dist/functions/<LogicalId>/ where `npm run build` puts it: a build artefact
 * for mapping a deployed stack back (scripts/map-stack.mjs), never in the function's code. A map in the package
 * would be 3-4 MB to fetch and unpack on every cold start, and read by nothing: the functions run without
 * --enable-source-maps (template.yaml Globals), which would parse it at the first error stack.
 */
async function buildOne(logicalId, outdir) {
  const f = functionBuilds().find((candidate) => candidate.logicalId === logicalId);
  if (!f) throw new Error(`template.yaml has no function ${logicalId} with Metadata BuildMethod: makefile`);
  const { outputFiles } = await build({
    entryPoints: f.entryPoints,
    outdir: f.outdir,
    logLevel: 'warning',
    ...f.options,
    write: false,
  });
  for (const file of outputFiles) {
    if (file.path.endsWith('.map')) writeInPlace(file.path, file.contents);
    else writeInPlace(join(resolve(outdir), relative(f.outdir, file.path)), file.contents);
  }
}

/**
 * Builds without touching an output whose content is unchanged, and replaces a changed one in one step (a new file
 * renamed over it): a test run that rebuilds dist/ (Jest's global set-up) while another run's local cloud loads its
 * threads and sandboxes from dist/ never lets that one read a half-written file.
 */
async function buildInPlace(options) {
  const { outputFiles } = await build({ ...options, write: false });
  for (const file of outputFiles) writeInPlace(file.path, file.contents);
  return outputFiles.map((file) => file.path);
}

function writeInPlace(path, contents) {
  let current;
  try {
    current = readFileSync(path);
  } catch {
    current = undefined;
  }
  if (current?.equals(contents)) return;
  mkdirSync(dirname(path), { recursive: true });
  const next = `${path}.${process.pid}.tmp`;
  writeFileSync(next, contents);
  renameSync(next, path);
}

/** esbuild's options for web/bundle/'s entries: ES modules for the browser, as the client library's build. */
const webBundles = {
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
};

/** The folder that holds the complete static web site: the local cloud serves it, publish-web uploads it. */
export const siteDir = join(root, 'dist', 'web');

/**
 * Assembles the web chat's static site in `outdir`: the pages, styles and scripts of web/, the client library's
 * browser build (roomcast.js, which the pages import) and web/bundle/'s entries bundled with their packages. Anything else in `outdir` is removed, so a file deleted from
 * web/ is never served or uploaded. Returns the site's files, relative to `outdir`, sorted.
 */
export async function buildSite(outdir = siteDir) {
  const webDir = join(root, 'web');
  const pages = readdirSync(webDir, { withFileTypes: true }).filter((entry) => entry.isFile());
  for (const page of pages) writeInPlace(join(outdir, page.name), readFileSync(join(webDir, page.name)));
  const bundle = await buildInPlace({
    ...browserClient,
    outfile: join(outdir, 'roomcast.js'),
  });
  // The browser code that needs packages from node_modules (web/bundle/: markdown-it for the messages' Markdown),
  // bundled one file per entry beside the pages; web/bundle/ itself is never served.
  const bundled = await buildInPlace({
    ...webBundles,
    entryPoints: readdirSync(join(webDir, 'bundle')).map((name) => join(webDir, 'bundle', name)),
    outdir,
  });
  // The emoji picker's data (emojibase's, from the emoji-picker-element-data package): fetched by web/emojiPicker.js
  // from this origin the first time a member opens the picker, so the page's connect-src stays 'self'.
  const emojiData = 'emoji-data.json';
  writeInPlace(
    join(outdir, emojiData),
    readFileSync(join(root, 'node_modules', 'emoji-picker-element-data', 'en', 'emojibase', 'data.json')),
  );
  const files = new Set([
    ...pages.map((page) => page.name),
    ...bundle.map((path) => basename(path)),
    ...bundled.map((path) => basename(path)),
    emojiData,
  ]);
  for (const name of readdirSync(outdir)) {
    if (!files.has(name) && !name.endsWith('.tmp'))
      rmSync(join(outdir, name), { recursive: true, force: true });
  }
  return [...files].sort();
}

function argument(name) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

async function main() {
  const started = Date.now();
  if (process.argv.includes('--site')) {
    const files = await buildSite();
    if (!quiet) console.log(`built the web site in ${Date.now() - started} ms: ${files.join(', ')}`);
    return;
  }
  const one = argument('--function');
  if (one !== undefined) {
    const outdir = argument('--outdir');
    if (!outdir) throw new Error('--function needs --outdir <dir>');
    return buildOne(one, outdir);
  }
  const functions = await buildAll();
  if (!quiet) {
    const names = functions.map((f) => `${f.logicalId}/${basename(f.entryPoints[0], '.ts')}.js`).join(', ');
    console.log(
      `built ${functions.length} functions (${names}) and the local cloud in ${Date.now() - started} ms`,
    );
  }
}

/** The Node programs under tools/ that dist/ holds, each built to dist/<its path under tools/>.js. */
const NODE_PROGRAMS = [
  'tools/local/cli.ts',
  'tools/local/lambda/worker.ts',
  'tools/local/dynamoThread.ts',
  'tools/local/stepFunctionsThread.ts',
  'tools/bench/fanout.ts',
  'tools/bench/childCloud.ts',
  'tools/cost/cli.ts',
];

/**
 * `programs` of NODE_PROGRAMS (all by default): programs that keep their dependencies in node_modules, laid out under
 * dist/ as under tools/ (tools/local/cli.ts -> dist/local/cli.js). One alone builds in a fraction of a second: what
 * `npm start -- --help` waits for.
 */
export function buildNodePrograms(programs = NODE_PROGRAMS) {
  return buildInPlace({
    entryPoints: programs.map((e) => join(root, e)),
    outdir: join(root, 'dist'),
    outbase: join(root, 'tools'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

/** Everything: the functions, the local cloud and its programs, the client package and the web site. */
export async function buildAll() {
  const functions = functionBuilds();
  await Promise.all([
    ...functions.map((f) =>
      buildInPlace({ entryPoints: f.entryPoints, outdir: f.outdir, logLevel: 'warning', ...f.options }),
    ),
    // The local cloud, its Lambda sandbox, the benchmark and the cost model: Node programs that keep their
    // dependencies in node_modules, laid out under dist/ as under tools/ (tools/local/cli.ts -> dist/local/cli.js).
    buildNodePrograms(),
    // The client package (@roomcast/client, client/build.mjs) into client/dist/, which the repository's Node
    // consumers import by its name. Its declarations are built by `npm pack`.
    buildClientJs(),
    buildSite(),
  ]);
  return functions;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
