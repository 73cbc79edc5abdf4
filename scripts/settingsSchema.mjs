// functions/platform/settingsSchema.ts for the scripts: compiled from its TypeScript source (it has no imports), so
// `npm run settings` and `npm run lint` check values with the functions' own rules.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The schema module: SETTINGS, DEPLOY_CONSTANTS, refusal, constantRefusal, SETTING_RULES, brokenRules. */
export async function loadSettingsSchema() {
  const out = await build({
    entryPoints: [join(root, 'functions', 'platform', 'settingsSchema.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}
