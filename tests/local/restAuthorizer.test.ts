import {
  REST_REFUSALS,
  type RestTokenAuthorizer,
  runTokenAuthorizer,
} from '../../tools/local/restAuthorizer';

/**
 * The local REST TOKEN authorizer against fake authorizer functions: what API Gateway answers for each thing an
 * authorizer can do (docs/PARITY.md, "Admin broadcast from the browser"), and when it does not call the function.
 */
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:broadcastapi/prod/POST/admin/broadcast';
const AUTHORIZER: RestTokenAuthorizer = {
  name: 'AdminToken',
  functionLogicalId: 'BroadcastAuthorizerFunction',
  header: 'Authorization',
  validationExpression: '^Bearer [-_.A-Za-z0-9]+$',
};
const policy = (Effect: string, Resource = METHOD_ARN) => ({
  Version: '2012-10-17',
  Statement: [{ Action: 'execute-api:Invoke', Effect, Resource }],
});

/** Runs the authorizer with `answer` as the function's behaviour; returns the outcome and the events it got. */
async function run(
  answer: () => unknown,
  headers: Record<string, string> = { authorization: 'Bearer a.b.c' },
) {
  const events: unknown[] = [];
  const outcome = await runTokenAuthorizer(AUTHORIZER, headers, METHOD_ARN, async (fn, event) => {
    expect(fn).toBe('BroadcastAuthorizerFunction');
    events.push(event);
    return answer();
  });
  return { outcome, events };
}

const allow = () => ({
  principalId: 'sub-1',
  policyDocument: policy('Allow'),
  context: { username: 'root' },
});

it('hands the token and method ARN to the function and its context to the route', async () => {
  const { outcome, events } = await run(allow);
  expect(events).toEqual([{ type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn: METHOD_ARN }]);
  expect(outcome).toEqual({
    allowed: true,
    context: { username: 'root', principalId: 'sub-1', integrationLatency: expect.any(Number) },
  });
});

it('answers 401 without calling the function when the header is missing, empty or fails the expression', async () => {
  for (const authorization of [undefined, '', 'Basic abc', 'Bearer a b', 'bearer a.b.c']) {
    const { outcome, events } = await run(allow, authorization === undefined ? {} : { authorization });
    expect({ authorization, outcome, calls: events.length }).toEqual({
      authorization,
      outcome: { allowed: false, refusal: REST_REFUSALS.unauthorized },
      calls: 0,
    });
  }
});

it('answers 401 for an Unauthorized error and 500 for any other failure', async () => {
  expect((await run(() => Promise.reject(new Error('Unauthorized')))).outcome).toEqual({
    allowed: false,
    refusal: { statusCode: 401, body: '{"message":"Unauthorized"}' },
  });
  expect((await run(() => Promise.reject(new Error('boom')))).outcome).toEqual({
    allowed: false,
    refusal: { statusCode: 500, body: '{"message":null}' },
  });
});

it('tells an explicit Deny (403 "explicit deny") from a policy that only does not allow the method (403)', async () => {
  const deny = await run(() => ({ principalId: 'sub-1', policyDocument: policy('Deny') }));
  expect(deny.outcome).toEqual({ allowed: false, refusal: REST_REFUSALS.explicitDeny });
  expect(JSON.parse(REST_REFUSALS.explicitDeny.body).Message).toMatch(/explicit deny/);
  const elsewhere = await run(() => ({
    principalId: 'sub-1',
    policyDocument: policy('Allow', METHOD_ARN.replace('/admin/broadcast', '/other')),
  }));
  expect(elsewhere.outcome).toEqual({ allowed: false, refusal: REST_REFUSALS.notAllowed });
});

it('fails the request (500) on a malformed answer: no principalId, no policy, a non-scalar context value', async () => {
  const answers = [
    () => ({ policyDocument: policy('Allow') }),
    () => ({ principalId: 'sub-1' }),
    () => ({ principalId: 'sub-1', policyDocument: policy('Allow'), context: { groups: ['admins'] } }),
    () => 'Allow',
  ];
  for (const answer of answers) {
    expect((await run(answer)).outcome).toEqual({ allowed: false, refusal: REST_REFUSALS.authorizerFailure });
  }
});
