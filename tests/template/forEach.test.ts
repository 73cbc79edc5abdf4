// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} syntax, not JS templates.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTemplate, readTemplateFile } from '../../tools/infra/template';
import { expandForEach } from '../../tools/infra/templateForEach';
import { transformedTemplate } from '../helpers/samTransform';

/**
 * template.yaml's Fn::ForEach loops (AWS::LanguageExtensions) make the WebSocket routes, route responses, integrations
 * and permissions. Every reader must see what CloudFormation makes of them: the local cloud's loader expands them
 * (tools/infra/templateForEach.ts), and so does the tests' SAM transform (tests/security/samTransform.py), each on its
 * own, so the two are checked against each other; cfn-lint (npm run lint) expands them a third way.
 */
const TEMPLATE = join(__dirname, '..', '..', 'template.yaml');

describe('template.yaml', () => {
  const local = readTemplateFile(TEMPLATE).raw as { Resources: Record<string, { Type: string }> };
  const cloud = transformedTemplate().Resources;

  it('makes the same resources locally as the AWS::LanguageExtensions transform does', () => {
    const ofApi = (resources: Record<string, { Type: string }>) =>
      Object.entries(resources)
        .filter(([, r]) =>
          /^AWS::(ApiGatewayV2::(Route|RouteResponse|Integration)|Lambda::Permission)$/.test(r.Type),
        )
        .map(([id, r]) => `${id} ${r.Type}`)
        .filter((entry) => !entry.startsWith('Broadcast')) // SAM's REST API permissions, made by the SAM transform
        .sort();
    expect(ofApi(local.Resources)).toEqual(ofApi(cloud));
  });

  it('gives each route made by a loop the key the Routes mapping names, locally and on AWS', () => {
    const routes = loadTemplate(TEMPLATE).webSocketApis()[0]?.routes ?? [];
    // A loop's route names its key in the Routes mapping, which CloudFormation resolves at deploy time.
    const mappings = (
      local as unknown as { Mappings: Record<string, Record<string, Record<string, string>>> }
    ).Mappings;
    const keyOf = (key: unknown) => {
      const [map, name, attribute] = (key as { 'Fn::FindInMap'?: string[] })['Fn::FindInMap'] ?? [];
      return typeof key === 'string' ? key : mappings[String(map)]?.[String(name)]?.[String(attribute)];
    };
    const cloudKeys = Object.values(cloud)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => keyOf(r.Properties?.RouteKey))
      .sort();
    expect(routes.map((r) => r.routeKey).sort()).toEqual(cloudKeys);
    // Each route a client sends reaches a function (ping is answered by API Gateway itself).
    for (const route of routes.filter((r) => r.routeKey !== 'ping')) {
      expect({ route: route.routeKey, fn: route.functionLogicalId }).toEqual({
        route: route.routeKey,
        fn: expect.stringMatching(/Function$/),
      });
    }
  });
});

describe('the expansion', () => {
  const template = (
    resources: Record<string, unknown>,
    transform: unknown = ['AWS::LanguageExtensions'],
  ) => ({
    Transform: transform,
    Resources: resources,
  });

  it('copies the fragment per value, replacing ${Id}, &{Id} and Ref Id, and reads Ref !Sub as a logical id', () => {
    const out = expandForEach(
      template({
        'Fn::ForEach::Queues': [
          'Name',
          ['Alpha', 'b-2'],
          {
            '&{Name}Queue': {
              Type: 'AWS::SQS::Queue',
              Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-${Name}' }, Tag: { Ref: 'Name' } },
            },
            '&{Name}Policy': {
              Type: 'AWS::SQS::QueuePolicy',
              Properties: { Queues: [{ Ref: { 'Fn::Sub': '&{Name}Queue' } }] },
            },
          },
        ],
      }),
      'test.yaml',
    );
    expect(out.Resources).toEqual({
      AlphaQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-Alpha' }, Tag: 'Alpha' },
      },
      AlphaPolicy: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'AlphaQueue' }] } },
      b2Queue: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-b-2' }, Tag: 'b-2' },
      },
      b2Policy: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'b2Queue' }] } },
    });
  });

  it.each([
    [
      'without the transform',
      template({ 'Fn::ForEach::A': ['X', ['a'], { '${X}Q': {} }] }, 'AWS::Serverless-2016-10-31'),
      /needs Transform: AWS::LanguageExtensions/,
    ],
    [
      'with a collection that is not a list',
      template({ 'Fn::ForEach::A': ['X', { Ref: 'P' }, { '${X}Q': {} }] }),
      /must be a list of strings/,
    ],
    [
      'with an OutputKey that does not vary',
      template({ 'Fn::ForEach::A': ['X', ['a', 'b'], { Q: {} }] }),
      /must contain \$\{X\}/,
    ],
    [
      'making a resource twice',
      template({ 'Fn::ForEach::A': ['X', ['a', 'a'], { '${X}Q': {} }] }),
      /aQ is made twice/,
    ],
    [
      'making a logical id that is not alphanumeric',
      template({ 'Fn::ForEach::A': ['X', ['a-b'], { '${X}Q': {} }] }),
      /must be alphanumeric/,
    ],
    [
      'in a shape other than [Identifier, collection, fragment]',
      template({ 'Fn::ForEach::A': ['X', ['a']] }),
      /expected \[Identifier/,
    ],
  ])('refuses a loop %s with a clear error', (_, raw, message) => {
    expect(() => expandForEach(raw, 'test.yaml')).toThrow(message);
  });

  it('refuses such a template in the local cloud with the file named, before anything starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roomcast-foreach-'));
    try {
      const path = join(dir, 'template.yaml');
      writeFileSync(
        path,
        'Resources:\n  Fn::ForEach::Queues:\n    - X\n    - [a]\n    - ${X}Queue:\n        Type: AWS::SQS::Queue\n',
      );
      expect(() => loadTemplate(path)).toThrow(
        `${path}: Fn::ForEach needs Transform: AWS::LanguageExtensions`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
