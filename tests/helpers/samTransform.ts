import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a transform's output is kept, by the hash of the template's path and text and of the script: five test files
 * transform the same template.yaml, and each run of the translator costs ~4 s of CPU. It is under node_modules/, so `npm ci` (CI's
 * first step) starts it empty; after upgrading cfn-lint (its translator) locally, `rm -r` it or run `npm ci`.
 */
const CACHE = join(__dirname, '..', '..', 'node_modules', '.cache', 'roomcast-sam-transform');
const SCRIPT = join(__dirname, '..', 'security', 'samTransform.py');

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/**
 * template.yaml as CloudFormation would receive it: its Fn::ForEach loops expanded, then the SAM transform, run by
 * the translator that ships with cfn-lint (tests/security/samTransform.py). Throws with the install hint when python3 or cfn-lint is missing.
 */
export function transformedTemplate(templatePath = join(__dirname, '..', '..', 'template.yaml')): {
  Resources: Record<string, CfnResource>;
} {
  const key = createHash('sha256')
    .update(templatePath)
    .update('\0')
    .update(readFileSync(templatePath))
    .update('\0')
    // The script too: a change to how it transforms (the loops it expands) must not be answered from the cache.
    .update(readFileSync(SCRIPT))
    .digest('hex');
  const cached = join(CACHE, `${key}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8'));
  } catch {
    // Not transformed yet (or a partial file from elsewhere): transform it below.
  }
  let out: string;
  try {
    out = execFileSync('python3', [SCRIPT, templatePath], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const { status, stderr } = error as { status?: number; stderr?: string };
    throw new Error(
      status === 3 || (error as { code?: string }).code === 'ENOENT'
        ? `This test needs python3 with cfn-lint (it ships the SAM translator): pip install 'cfn-lint>=1.51,<2'.\n${stderr ?? ''}`
        : `The SAM transform of template.yaml failed (exit ${status}):\n${stderr ?? ''}`,
    );
  }
  const transformed = JSON.parse(out);
  // Written aside and renamed, so a test file in another worker reads the whole file or none.
  mkdirSync(CACHE, { recursive: true });
  const partial = `${cached}.${process.pid}`;
  writeFileSync(partial, out);
  renameSync(partial, cached);
  return transformed;
}
