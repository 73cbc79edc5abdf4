import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';

/**
 * Tearing a stack down: `sam delete` deletes what the stack made except what it keeps (DeletionPolicy Retain), and
 * docs/OPERATIONS.md's "Tearing down" steps remove exactly what is kept: no step for something the stack already
 * removed (that step would fail), none missing.
 */
const root = join(__dirname, '..', '..');
const template = loadTemplate(join(root, 'template.yaml'));
const resources = template.raw.Resources as Record<
  string,
  { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }
>;

/** The resource type each AWS CLI teardown step removes. */
const REMOVES: Record<string, string> = {
  'dynamodb delete-table': 'AWS::DynamoDB::Table',
  'cognito-idp delete-user-pool': 'AWS::Cognito::UserPool',
  'cognito-idp delete-user-pool-domain': 'AWS::Cognito::UserPoolDomain',
  's3 rb': 'AWS::S3::Bucket',
  'logs delete-log-group': 'AWS::Logs::LogGroup',
};

/** The `aws ...` commands in OPERATIONS.md's "Tearing down" section, as "service operation". */
function teardownSteps(): string[] {
  const operations = readFileSync(join(root, 'docs', 'OPERATIONS.md'), 'utf8');
  const section = operations.split(/^## /m).find((s) => s.startsWith('Tearing down')) ?? '';
  return [...section.matchAll(/^aws (\S+) (\S+)/gm)].map(
    ([, service, operation]) => `${service} ${operation}`,
  );
}

it('keeps every bucket through sam delete: CloudFormation cannot delete one that holds the published site', () => {
  const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
  expect(buckets.map(([id]) => id)).toContain('WebBucket');
  for (const [id, r] of buckets)
    expect([id, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
});

it("OPERATIONS' teardown removes exactly the kinds of resource sam delete keeps", () => {
  const kept = new Set(
    Object.values(resources)
      .filter((r) => r.DeletionPolicy === 'Retain')
      .map((r) => r.Type),
  );
  const steps = teardownSteps();
  expect(steps.filter((step) => !(step in REMOVES))).toEqual([]);
  expect([...new Set(steps.map((step) => REMOVES[step]))].sort()).toEqual([...kept].sort());
});
