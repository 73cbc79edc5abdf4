import { join } from 'node:path';
import { loadTemplate, readTemplateFile } from '../../tools/infra/template';
import { templatePrincipals } from '../../tools/local/iam/principals';

/**
 * The local cloud expands the template's customer managed policies (what the feature functions share) and refuses at
 * start what IAM refuses at deploy: more managed policies on a role than IAM's quota, a managed policy or a role's
 * inline policies over their size quotas, a Sid repeated in one policy (docs/PARITY.md, "IAM").
 */
const TEMPLATE = join(__dirname, '..', '..', 'template.yaml');
// biome-ignore lint/suspicious/noExplicitAny: the raw template is edited as plain data
type Raw = Record<string, any>;

/** The repository's template with one change made to its Resources. */
function templateWith(change: (resources: Raw) => void) {
  const file = readTemplateFile(TEMPLATE);
  change((file.raw as Raw).Resources);
  return loadTemplate(file);
}

const statement = (sid: string, resource = 'arn:aws:dynamodb:us-east-1:000000000000:table/x') => ({
  Sid: sid,
  Effect: 'Allow',
  Action: 'dynamodb:GetItem',
  Resource: resource,
});

it("the template's roles are accepted, and a shared policy's statements reach every function that attaches it", () => {
  const principals = templatePrincipals(loadTemplate(TEMPLATE));
  const typing = principals.find((p) => p.logicalId === 'TypingFunction');
  const rooms = principals.find((p) => p.logicalId === 'RoomsFunction');
  for (const principal of [typing, rooms]) {
    const sids = principal?.policies.flatMap((p) =>
      [p.document.Statement].flat().map((s) => (s as { Sid?: string }).Sid),
    );
    expect(sids).toEqual(expect.arrayContaining(['CountFramesAndStrikes', 'CloseAbusiveConnection']));
  }
});

it('a role with more managed policies than the quota of 10 (SAM attaches one itself) is refused', () => {
  const template = templateWith((resources) => {
    const policies: unknown[] = resources.TypingFunction.Properties.Policies;
    const managed = policies.filter((p) => typeof p === 'object' && p !== null && 'Ref' in p).length;
    // With SAM's AWSLambdaBasicExecutionRole, 10 in all: still accepted.
    for (let i = managed; i < 9; i++) {
      resources[`ExtraPolicy${i}`] = {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [statement(`Extra${i}`)] } },
      };
      policies.push({ Ref: `ExtraPolicy${i}` });
    }
  });
  expect(() => templatePrincipals(template)).not.toThrow();
  const over = templateWith((resources) => {
    const policies: unknown[] = resources.TypingFunction.Properties.Policies;
    for (let i = 0; i < 10; i++) {
      resources[`ExtraPolicy${i}`] = {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: { PolicyDocument: { Version: '2012-10-17', Statement: [statement(`Extra${i}`)] } },
      };
      policies.push({ Ref: `ExtraPolicy${i}` });
    }
  });
  expect(() => templatePrincipals(over)).toThrow(
    /TypingFunction.*LimitExceeded: a role holds at most 10 managed policies/,
  );
});

it('a managed policy over 6,144 characters is refused', () => {
  const template = templateWith((resources) => {
    const statements: unknown[] = resources.FrameGuardPolicy.Properties.PolicyDocument.Statement;
    for (let i = 0; statements.length < 200; i++) statements.push(statement(`Padding${i}`));
  });
  expect(() => templatePrincipals(template)).toThrow(
    /FrameGuardPolicy.*LimitExceeded: a managed policy holds at most 6144 characters/,
  );
});

it("a role's inline policies over 10,240 characters in all are refused", () => {
  const template = templateWith((resources) => {
    const policies: unknown[] = resources.TypingFunction.Properties.Policies;
    const padding = Array.from({ length: 120 }, (_, i) => statement(`Padding${i}`));
    policies.push({ Statement: padding.slice(0, 60) }, { Statement: padding.slice(60) });
  });
  expect(() => templatePrincipals(template)).toThrow(
    /TypingFunction.*LimitExceeded: a role's inline policies hold at most 10240 characters/,
  );
});

it('a Sid repeated within one policy is refused, inline or managed', () => {
  const inline = templateWith((resources) => {
    resources.TypingFunction.Properties.Policies.push({
      Statement: [statement('Twice'), statement('Twice')],
    });
  });
  expect(() => templatePrincipals(inline)).toThrow(/MalformedPolicyDocument: the Sid Twice appears twice/);
  const managed = templateWith((resources) => {
    resources.FrameGuardPolicy.Properties.PolicyDocument.Statement.push(statement('CountFramesAndStrikes'));
  });
  expect(() => templatePrincipals(managed)).toThrow(
    /FrameGuardPolicy.*the Sid CountFramesAndStrikes appears twice/,
  );
});
