import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';

/**
 * `npm run build` must produce, for every function of template.yaml, the bundle `sam build` would: the file named
 * by the Handler, exporting the handler function, with no dependency left outside the bundle. Jest's global set-up
 * (tests/setup/build.js) has just built dist/ from the current sources; this file does not build it again, as
 * rewriting dist/ would pull the bundles from under the tests another worker runs at the same time.
 */
const root = join(__dirname, '..', '..');
const template = loadTemplate(join(root, 'template.yaml'));

describe.each(template.functions().map((fn) => [fn.logicalId, fn] as const))('%s', (_id, fn) => {
  const [moduleName, exportName] = fn.handler.split('.') as [string, string];
  const bundle = join(root, 'dist', 'functions', fn.logicalId, `${moduleName}.js`);

  it('is bundled from its esbuild entry point, with its source map kept beside it as a build artefact', () => {
    expect(existsSync(fn.entryPoint)).toBe(true);
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(`${bundle}.map`)).toBe(true);
  });

  // A deployed function never parses a source map: its package has none (samBuild.test.ts), and a stack's first
  // formatting would otherwise read the whole 3-4 MB map (tens of ms on a cold start, in docs/MEASUREMENTS.md).
  it('runs without --enable-source-maps', () => {
    expect(fn.environment.NODE_OPTIONS ?? '').not.toMatch(/source-maps/);
  });

  // The SDK's HTTP handler loads node:http with `await import()`; in a CommonJS function the first dynamic import
  // starts Node's ES module loader (and undici) during the cold start's first request (scripts/build.mjs).
  it("loads Node's modules with require(), never a dynamic import()", () => {
    expect(readFileSync(bundle, 'utf8').match(/\bimport\(/g) ?? []).toEqual([]);
  });

  it('exports its handler and loads without node_modules', () => {
    // Copied away from the project's node_modules, as in a Lambda package: only built-ins may be required.
    const alone = join(mkdtempSync(join(tmpdir(), 'roomcast-bundle-')), `${moduleName}.js`);
    copyFileSync(bundle, alone);
    const script = `const m = require(${JSON.stringify(alone)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: '/',
      env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    }).toString();
    expect(out).toBe('function');
    expect(statSync(bundle).size).toBeLessThan(3 * 1024 * 1024);
  });
});
