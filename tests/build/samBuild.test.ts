import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { parse } from 'yaml';

/**
 * `sam build` from a plain shell, step by step as SAM's esbuild builder (aws-lambda-builders, nodejs_npm_esbuild)
 * takes them: copy the CodeUri (`./`) to a scratch folder, `npm install --omit=dev` there, then look for `esbuild`
 * in that folder's `node_modules/.bin` (then PATH, which in a plain shell has none) and bundle every function with
 * its Metadata.BuildProperties. esbuild must therefore be a production dependency: as a devDependency the scratch
 * install leaves it out and `sam build` fails with "Esbuild Failed: Cannot find esbuild".
 *
 * The install runs offline from npm's cache when it can (`--prefer-offline`) and skips lifecycle scripts, which the
 * esbuild launcher does not need, so the test stays fast; SAM itself runs the scripts.
 */
const root = join(__dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'roomcast-sam-build-'));
// Build artifacts go outside the scratch folder, so a bundle that still needs node_modules cannot find them.
const artifacts = mkdtempSync(join(tmpdir(), 'roomcast-sam-artifacts-'));

interface BuildProperties {
  EntryPoints?: string[];
  Target?: string;
  Format?: string;
  Minify?: boolean;
  Sourcemap?: boolean;
  External?: string[];
}

/** The esbuild functions of template.yaml; short-form tags (!Ref, !Sub) are read as plain values. */
function esbuildFunctions(): { logicalId: string; handler: string; props: BuildProperties }[] {
  const template = parse(readFileSync(join(root, 'template.yaml'), 'utf8'), { logLevel: 'silent' }) as {
    Globals?: { Function?: { Handler?: string } };
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: { BuildMethod?: string; BuildProperties?: BuildProperties };
        Properties?: { Handler?: string };
      }
    >;
  };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function' && r.Metadata?.BuildMethod === 'esbuild')
    .map(([logicalId, r]) => ({
      logicalId,
      handler: r.Properties?.Handler ?? template.Globals?.Function?.Handler ?? '',
      props: r.Metadata?.BuildProperties ?? {},
    }));
}

/** A plain shell's PATH: without this project's node_modules/.bin, which `npm test` puts in front. */
function plainPath(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes(`${sep}node_modules${sep}.bin`))
    .join(delimiter);
}

/** Where SAM's builder finds esbuild: the scratch folder's node_modules/.bin, then PATH. */
function findEsbuild(folder: string, path: string): string | undefined {
  for (const dir of [join(folder, 'node_modules', '.bin'), ...path.split(delimiter)]) {
    if (dir && existsSync(join(dir, 'esbuild'))) return join(dir, 'esbuild');
  }
  return undefined;
}

beforeAll(() => {
  // The CodeUri is the project folder; what is not source (installed modules, build output, git) is left behind.
  const skipped = new Set(['node_modules', 'dist', '.git', '.aws-sam'].map((name) => join(root, name)));
  cpSync(root, scratch, { recursive: true, filter: (from) => !skipped.has(from) });
  execFileSync(
    'npm',
    [
      'install',
      '--omit=dev',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: scratch, env: { ...process.env, PATH: plainPath() }, stdio: 'pipe', timeout: 170_000 },
  );
}, 180_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(artifacts, { recursive: true, force: true });
});

it('finds esbuild in the production install of the scratch folder', () => {
  const found = findEsbuild(scratch, plainPath());
  expect(found).toBe(join(scratch, 'node_modules', '.bin', 'esbuild'));
});

it('bundles every function with that esbuild and its BuildProperties into a handler that loads alone', () => {
  const esbuild = join(scratch, 'node_modules', '.bin', 'esbuild');
  const functions = esbuildFunctions();
  expect(functions.length).toBeGreaterThan(0);
  const bundles: Record<string, { file: string; exportName: string }> = {};
  for (const { logicalId, handler, props } of functions) {
    const outdir = join(artifacts, logicalId);
    const args = [
      ...(props.EntryPoints ?? []),
      '--bundle',
      '--platform=node',
      `--outdir=${outdir}`,
      `--target=${props.Target ?? 'es2020'}`,
      `--format=${props.Format ?? 'cjs'}`,
      ...(props.Minify ? ['--minify'] : []),
      ...(props.Sourcemap ? ['--sourcemap'] : []),
      ...(props.External ?? []).map((name) => `--external:${name}`),
      '--log-level=error',
    ];
    // A function that imports a devDependency fails here, as it would under `sam build`.
    execFileSync(esbuild, args, { cwd: scratch, env: { PATH: plainPath() }, stdio: 'pipe' });
    const [moduleName, exportName] = handler.split('.') as [string, string];
    bundles[logicalId] = { file: join(outdir, `${moduleName}.js`), exportName };
  }

  // One Node process loads every bundle from outside both folders and reports what each handler export is.
  const script = `const bundles = ${JSON.stringify(bundles)};
    const kinds = Object.fromEntries(Object.entries(bundles).map(([id, b]) => [id, typeof require(b.file)[b.exportName]]));
    process.stdout.write(JSON.stringify(kinds));`;
  const loaded = execFileSync(process.execPath, ['-e', script], {
    cwd: tmpdir(),
    env: { PATH: plainPath(), AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
  }).toString();
  expect(JSON.parse(loaded)).toEqual(Object.fromEntries(functions.map((f) => [f.logicalId, 'function'])));
});
