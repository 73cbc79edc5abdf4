import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/**
 * template.yaml as CloudFormation would receive it: after the SAM transform, run by the translator that ships with
 * cfn-lint (tests/security/samTransform.py). Throws with the install hint when python3 or cfn-lint is missing.
 */
export function transformedTemplate(templatePath = join(__dirname, '..', '..', 'template.yaml')): {
  Resources: Record<string, CfnResource>;
} {
  let out: string;
  try {
    out = execFileSync('python3', [join(__dirname, '..', 'security', 'samTransform.py'), templatePath], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
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
  return JSON.parse(out);
}
