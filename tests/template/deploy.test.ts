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

/** A function as SAM CLI's guided deploy reads it: Globals.Function under its own Properties. */
type FunctionProps = {
  Events?: Record<
    string,
    { Type?: string; Properties?: { Auth?: unknown; RestApiId?: unknown; ApiId?: unknown } }
  >;
  FunctionUrlConfig?: { AuthType?: string };
  CodeSigningConfigArn?: unknown;
};

/**
 * The questions of `sam deploy --guided` whose Enter does not deploy (aws-sam-cli samcli/commands/deploy/
 * guided_context.py): a NoEcho parameter is asked with no default, so Enter asks again (prompt_parameters); an
 * `Api` or `HttpApi` event with no `Auth` on itself or on the API its RestApiId/ApiId names, or a function URL of
 * AuthType NONE, asks "<function> has no authentication. Is this okay? [y/N]", whose No ends the deploy
 * (prompt_authorization, auth_utils.py); a CodeSigningConfigArn asks for a signing profile
 * (prompt_code_signing_settings).
 */
function stopsOnEnter(): string[] {
  const globals = ((template.raw.Globals as { Function?: FunctionProps } | undefined)?.Function ??
    {}) as FunctionProps;
  const all = template.raw.Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const refOf = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref ?? value;
  const stops = Object.entries(parameters)
    .filter(([, p]) => (p as { NoEcho?: unknown }).NoEcho)
    .map(([name]) => `${name}: NoEcho, asked with no default`);
  for (const [id, resource] of Object.entries(all)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    const fn = { ...globals, ...resource.Properties } as FunctionProps;
    for (const [name, event] of Object.entries(fn.Events ?? {})) {
      if (event.Type !== 'Api' && event.Type !== 'HttpApi') continue;
      const api = all[String(refOf(event.Properties?.RestApiId ?? event.Properties?.ApiId))];
      const apiHasAuth =
        api?.Type === 'AWS::ApiGateway::RestApi' ||
        api?.Type === 'AWS::ApiGatewayV2::Api' ||
        !!api?.Properties?.Auth;
      if (!event.Properties?.Auth && !apiHasAuth) stops.push(`${id}.${name}: an API event without Auth`);
    }
    if (fn.FunctionUrlConfig && fn.FunctionUrlConfig.AuthType === 'NONE')
      stops.push(`${id}: a function URL of AuthType NONE`);
    if (fn.CodeSigningConfigArn) stops.push(`${id}: a code signing config`);
  }
  return stops;
}

it('asks nothing whose Enter stops the deploy: no hidden parameter, no API without auth, no code signing', () => {
  expect(stopsOnEnter()).toEqual([]);
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

/** Each function's ReservedConcurrentExecutions as deployed (the functions without one left out). */
const reservations = (t: typeof template) =>
  Object.fromEntries(
    t
      .functions()
      .filter((f) => f.reservedConcurrency !== undefined)
      .map((f) => [f.logicalId, f.reservedConcurrency]),
  );

it('reserves no concurrency on Enter, so a new account with a quota of 10 deploys', () => {
  expect(reservations(template)).toEqual({});
});

it("reserves Deliver's and the messages function's concurrency, each only from its own constant", () => {
  const deliver = loadTemplate(templatePath, { constants: { DeliverReservedConcurrency: '10' } });
  expect(reservations(deliver)).toEqual({ DeliverFunction: 10 });
  const messages = loadTemplate(templatePath, { constants: { MessagesReservedConcurrency: '150' } });
  expect(reservations(messages)).toEqual({ MessagesFunction: 150 });
  const both = loadTemplate(templatePath, {
    constants: { DeliverReservedConcurrency: '300', MessagesReservedConcurrency: '150' },
  });
  expect(reservations(both)).toEqual({ DeliverFunction: 300, MessagesFunction: 150 });
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
