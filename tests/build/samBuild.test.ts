import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

/**
 * `sam build` from a plain shell, step by step as SAM takes them for `Metadata: BuildMethod: makefile` with
 * samconfig.toml's `build_in_source = true` (SAM CLI samcli/lib/build/app_builder.py, aws-lambda-builders
 * workflows/custom_make): for each function, in the CodeUri folder itself (no copy), `make build-<LogicalId>` with
 * ARTIFACTS_DIR set to the folder SAM then packages. Makefile builds are never merged into one (build_graph.py), so
 * that runs once per function. Nothing is installed: the Makefile bundles with the project's own esbuild.
 */
const root = join(__dirname, '..', '..');
const execFileAsync = promisify(execFile);
// Build artifacts go outside the project, so a bundle that still needs node_modules cannot find them.
const artifacts = mkdtempSync(join(tmpdir(), 'roomcast-sam-artifacts-'));

interface SamFunction {
  logicalId: string;
  handler: string;
  buildMethod?: string;
  codeUri?: string;
}

/** The functions of template.yaml; short-form tags (!Ref, !Sub) are read as plain values. */
function samFunctions(): SamFunction[] {
  const template = parse(readFileSync(join(root, 'template.yaml'), 'utf8'), { logLevel: 'silent' }) as {
    Globals?: { Function?: { Handler?: string; CodeUri?: string } };
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: { BuildMethod?: string };
        Properties?: { Handler?: string; CodeUri?: string };
      }
    >;
  };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([logicalId, r]) => ({
      logicalId,
      handler: r.Properties?.Handler ?? template.Globals?.Function?.Handler ?? '',
      buildMethod: r.Metadata?.BuildMethod,
      codeUri: r.Properties?.CodeUri ?? template.Globals?.Function?.CodeUri,
    }));
}

/**
 * A file's size and SHA-256: equal exactly when the bytes are (Jest's deep equality on two bundles of ~800 KB
 * compares them one byte at a time, minutes for all of them on a busy machine).
 */
function fingerprint(file: string): { bytes: number; sha256: string } {
  const content = readFileSync(file);
  return { bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') };
}

/** A plain shell's PATH: without this project's node_modules/.bin, which `npm test` puts in front. */
function plainPath(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes(`${sep}node_modules${sep}.bin`))
    .join(delimiter);
}

afterAll(() => {
  rmSync(artifacts, { recursive: true, force: true });
});

it('builds every function through the shared Makefile step, in place, installing nothing per function', () => {
  const functions = samFunctions();
  expect(functions.length).toBeGreaterThan(0);
  expect(functions.filter((f) => f.buildMethod !== 'makefile').map((f) => f.logicalId)).toEqual([]);
  expect(new Set(functions.map((f) => f.codeUri))).toEqual(new Set(['./']));
  expect(readFileSync(join(root, 'samconfig.toml'), 'utf8')).toMatch(
    /\[default\.build\.parameters\][^[]*\nbuild_in_source = true\n/,
  );
});

it('makes each bundle byte for byte as npm run build does, and each loads alone', async () => {
  const functions = samFunctions();
  // One `make` per function, as SAM runs them; they are independent (each writes its own ARTIFACTS_DIR), so they
  // run side by side rather than one after the other.
  await Promise.all(
    functions.map(({ logicalId }) =>
      execFileAsync('make', ['-f', 'Makefile', `build-${logicalId}`], {
        cwd: root,
        env: {
          PATH: plainPath(),
          ARTIFACTS_DIR: join(artifacts, logicalId),
          HOME: process.env.HOME ?? tmpdir(),
        },
      }),
    ),
  );
  const bundles: Record<string, { file: string; exportName: string }> = {};
  for (const { logicalId, handler } of functions) {
    const outdir = join(artifacts, logicalId);
    const [moduleName, exportName] = handler.split('.') as [string, string];
    const file = join(outdir, `${moduleName}.js`);
    expect(fingerprint(file)).toEqual(
      fingerprint(join(root, 'dist', 'functions', logicalId, `${moduleName}.js`)),
    );
    // The package is the bundle alone: its source map stays a build artefact in dist/ (scripts/map-stack.mjs).
    expect(readdirSync(outdir)).toEqual([`${moduleName}.js`]);
    bundles[logicalId] = { file, exportName };
  }
  // One Node process loads every bundle from outside the project and reports what each handler export is.
  const script = `const bundles = ${JSON.stringify(bundles)};
    const kinds = Object.fromEntries(Object.entries(bundles).map(([id, b]) => [id, typeof require(b.file)[b.exportName]]));
    process.stdout.write(JSON.stringify(kinds));`;
  const loaded = execFileSync(process.execPath, ['-e', script], {
    cwd: tmpdir(),
    env: { PATH: plainPath(), AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
  }).toString();
  expect(JSON.parse(loaded)).toEqual(Object.fromEntries(functions.map((f) => [f.logicalId, 'function'])));
}, 240_000);

it('tells a shell without node_modules to run npm ci first', () => {
  const bare = mkdtempSync(join(tmpdir(), 'roomcast-bare-'));
  try {
    execFileSync('cp', [join(root, 'Makefile'), bare]);
    let message = '';
    try {
      execFileSync('make', ['-f', 'Makefile', 'build-ConnectionFunction'], {
        cwd: bare,
        env: { PATH: plainPath(), ARTIFACTS_DIR: join(bare, 'out') },
        stdio: 'pipe',
      });
    } catch (error) {
      message = String((error as { stderr?: Buffer }).stderr);
    }
    expect(message).toContain('run npm ci first');
    expect(existsSync(join(bare, 'out'))).toBe(false);
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
});
