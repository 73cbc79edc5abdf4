// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} syntax, not JS templates.
import { type CfnResource, transformedTemplate } from '../helpers/samTransform';
import { FEATURE_FUNCTIONS } from '../helpers/templateOutputs';

/**
 * Who may invoke the WebSocket API's functions: API Gateway, from this API's stage only, by one resource-based
 * permission per function. The integration decides which route reaches which function, so a permission per route
 * would add nothing but resources; a route whose function lacks the permission fails on AWS with "Internal server
 * error" while every test of the local cloud passes, which is why this is checked here.
 */
const { Resources } = transformedTemplate();
const of = (type: string) => Object.entries(Resources).filter(([, r]) => r.Type === type);
const ref = (value: unknown) => (value as { Ref?: string } | undefined)?.Ref;

/** The function a Lambda proxy integration invokes: its ARN (`${XFunction.Arn}` or `!GetAtt XFunction.Arn`) in IntegrationUri. */
function integratedFunction(integration: CfnResource): string | undefined {
  const uri = JSON.stringify(integration.Properties?.IntegrationUri);
  const match = /\$\{(\w+)\.Arn\}|"Fn::GetAtt":\["(\w+)","Arn"\]/.exec(uri);
  return match?.[1] ?? match?.[2];
}

const webSocketApi = (r: CfnResource) => ref(r.Properties?.ApiId) === 'WebSocketApi';
const integrations = new Map(
  of('AWS::ApiGatewayV2::Integration')
    .filter(([, r]) => webSocketApi(r) && r.Properties?.IntegrationType === 'AWS_PROXY')
    .map(([id, r]) => [id, integratedFunction(r)]),
);
const routedFunctions = new Set(
  of('AWS::ApiGatewayV2::Route')
    .filter(([, r]) => webSocketApi(r))
    .map(([, r]) => JSON.stringify(r.Properties?.Target))
    .flatMap((target) =>
      [...integrations].filter(([id]) => target.includes(`\${${id}}`)).map(([, fn]) => fn),
    ),
);
const stagePermissions = of('AWS::Lambda::Permission').filter(([, r]) =>
  JSON.stringify(r.Properties?.SourceArn).includes('${WebSocketApi}/${StageName}/'),
);

it('routes the WebSocket API to the feature functions through one integration each', () => {
  expect([...routedFunctions].sort()).toEqual([...FEATURE_FUNCTIONS].sort());
  expect(integrations.size).toBe(routedFunctions.size);
});

it('lets API Gateway invoke each routed function by one permission, from any route of this stage only', () => {
  const byFunction = new Map<string, CfnResource[]>();
  for (const [, permission] of stagePermissions) {
    const fn = String(ref(permission.Properties?.FunctionName));
    byFunction.set(fn, [...(byFunction.get(fn) ?? []), permission]);
  }
  expect([...byFunction.keys()].sort()).toEqual([...routedFunctions].sort());
  for (const [fn, permissions] of byFunction) {
    expect({ fn, count: permissions.length }).toEqual({ fn, count: 1 });
    expect({ fn, properties: permissions[0]?.Properties }).toEqual({
      fn,
      properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { Ref: fn },
        Principal: 'apigateway.amazonaws.com',
        // This account, region, API and stage: another API or stage (a second deployment of the template) may not.
        SourceArn: {
          'Fn::Sub':
            'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${StageName}/*',
        },
      },
    });
  }
});
