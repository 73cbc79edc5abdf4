import { join } from 'node:path';
import { GIVE_UP_MS, STOP_POSTING_MS } from '#deliver/timing';
import { loadTemplate } from '../../tools/infra/template';

/**
 * What `sam deploy --guided` does with template.yaml: it asks for every parameter, showing only its name and default
 * (SAM CLI samcli/commands/deploy/guided_context.py, prompt_parameters), and Enter keeps the default.
 */
const templatePath = join(__dirname, '..', '..', 'template.yaml');
const template = loadTemplate(templatePath);
const parameters = template.raw.Parameters as Record<string, { Description?: string; Type: string }>;
const resources = template.raw.Resources as Record<
  string,
  { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }
>;

it('asks at most 12 questions, each described', () => {
  expect(Object.keys(parameters).length).toBeLessThanOrEqual(12);
  for (const [name, p] of Object.entries(parameters))
    expect([name, (p.Description ?? '').length > 20]).toEqual([name, true]);
});

it('deploys, on Enter at every question, a chat people sign in to: own user pool with a sign-in domain and admin group, hosted web chat', () => {
  expect(template.parameter('AuthMode')).toBe('cognito');
  const connect = template.webSocketApis()[0]?.routes.find((r) => r.routeKey === '$connect');
  expect(connect?.authorizer?.functionLogicalId).toBe('AuthorizerFunction');
  const created = template.resourceIds();
  for (const id of [
    'UserPool',
    'UserPoolClient',
    'UserPoolDomain',
    'AdminGroup',
    'WebBucket',
    'WebDistribution',
  ])
    expect(created).toContain(id);
  // The domain prefix is unique without asking: it comes from the stack's id.
  const domain = template.resolve(
    (template.raw.Resources as Record<string, { Properties: { Domain: unknown } }>).UserPoolDomain?.Properties
      .Domain,
  );
  expect(domain).toMatch(/^roomcast-[0-9a-f]{8}$/);
});

it('keeps the open chat one answer away', () => {
  const open = loadTemplate(templatePath, { parameters: { AuthMode: 'none' } });
  expect(open.resourceIds()).not.toContain('UserPool');
  expect(open.webSocketApis()[0]?.routes.find((r) => r.routeKey === '$connect')?.authorizer).toBeUndefined();
});

it('reserves no Deliver concurrency unless the DeliverReservedConcurrency constant asks for it', () => {
  const deliver = () => template.functions().find((f) => f.logicalId === 'DeliverFunction');
  expect(deliver()?.reservedConcurrency).toBeUndefined();
  const reserved = loadTemplate(templatePath, { constants: { DeliverReservedConcurrency: '10' } });
  expect(reserved.functions().find((f) => f.logicalId === 'DeliverFunction')?.reservedConcurrency).toBe(10);
});

it('keeps every data table through sam delete and replacement', () => {
  const tables = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
  expect(tables.length).toBe(12);
  for (const [id, r] of tables)
    expect([id, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
});

it("Deliver's Timeout, set once in the template, leaves room for the margins its code takes from it", () => {
  const deliver = template.functions().find((f) => f.logicalId === 'DeliverFunction');
  const timeoutMs = (deliver?.timeoutSeconds ?? 0) * 1000;
  // Posts in flight get at most a third of the invocation; the last second comes after.
  expect(timeoutMs).toBeGreaterThanOrEqual(3 * STOP_POSTING_MS);
  expect(timeoutMs).toBeGreaterThan(STOP_POSTING_MS + GIVE_UP_MS);
});
