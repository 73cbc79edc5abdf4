import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import { transformedTemplate } from '../helpers/samTransform';

/**
 * template.yaml's loops (Fn::ForEach) make log groups, tables and alarms that a deployed stack already has. An update
 * replaces a resource whose logical id, LogGroupName or key schema changes: a log group's logs, or a table's items,
 * would go (tables are Retained, so a replaced one is orphaned). These are the names and keys the stack has always
 * had, written out here once so that a loop or mapping edit that changes one fails.
 */
const TEMPLATE = join(__dirname, '..', '..', 'template.yaml');
const template = loadTemplate(TEMPLATE, { stackName: 'stack' });
const cloud = transformedTemplate().Resources;
const resources = template.raw.Resources as Record<string, { Properties?: unknown }>;

const LOG_GROUPS: Record<string, string> = {
  ConnectionLogGroup: '/aws/lambda/stack/connection',
  AuthorizerLogGroup: '/aws/lambda/stack/authorizer',
  MessagesLogGroup: '/aws/lambda/stack/messages',
  RoomsLogGroup: '/aws/lambda/stack/rooms',
  TypingLogGroup: '/aws/lambda/stack/typing',
  ReadingLogGroup: '/aws/lambda/stack/reading',
  PeopleLogGroup: '/aws/lambda/stack/people',
  DeliverLogGroup: '/aws/lambda/stack/deliver',
  DepartureMachineLogGroup: '/aws/vendedlogs/states/stack-departure',
  BroadcastLogGroup: '/aws/lambda/stack/broadcast',
  BroadcastAuthorizerLogGroup: '/aws/lambda/stack/broadcast-authorizer',
  AttachmentsLogGroup: '/aws/lambda/stack/attachments',
  SafetyLogGroup: '/aws/lambda/stack/safety',
  FanoutLogGroup: '/aws/vendedlogs/states/stack-fanout',
  BroadcastMachineLogGroup: '/aws/vendedlogs/states/stack-broadcast',
  RepostMachineLogGroup: '/aws/vendedlogs/states/stack-repost',
  PushLogGroup: '/aws/lambda/stack/push',
};

/** Each table's key: partition attribute and type, then the sort attribute and type if any. */
const TABLE_KEYS: Record<string, string> = {
  ConnectionsTable: 'connectionId S',
  SubscriptionsTable: 'connectionId S, roomId S',
  WordsTable: 'wordKey S, seq N',
  RoomsTable: 'roomId S',
  MessagesTable: 'roomId S, seq N',
  ReactionsTable: 'target S, key S',
  SessionsTable: 'connectionId S',
  LimitsTable: 'limitKey S',
  SendsTable: 'sendKey S',
  MembershipsTable: 'memberKey S, roomId S',
  DirectoryTable: 'listKey S, entryKey S',

  PushSubscriptionsTable: 'userId S, endpointKey S',
};

it('keeps every log group under the logical id and name it has always had', () => {
  const names = Object.fromEntries(
    template
      .resourceIds('AWS::Logs::LogGroup')
      .map((id) => [
        id,
        (template.resolve(resources[id]?.Properties, id) as { LogGroupName: string }).LogGroupName,
      ]),
  );
  expect(names).toEqual(LOG_GROUPS);
  // CloudFormation receives the same logical ids (the loops expanded by the tests' transform, not the local loader).
  const onAws = Object.keys(cloud).filter((id) => cloud[id]?.Type === 'AWS::Logs::LogGroup');
  expect(onAws.sort()).toEqual(Object.keys(LOG_GROUPS).sort());
});

it('keeps every table under the logical id and key schema it has always had', () => {
  const keys = Object.fromEntries(
    template.tables().map((t) => {
      const typeOf = (name?: string) =>
        t.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
      const key = (t.KeySchema ?? []).map((k) => `${k.AttributeName} ${typeOf(k.AttributeName)}`).join(', ');
      return [t.logicalId, key];
    }),
  );
  expect(keys).toEqual(TABLE_KEYS);
  const onAws = Object.keys(cloud).filter((id) => cloud[id]?.Type === 'AWS::DynamoDB::Table');
  expect(onAws.sort()).toEqual(Object.keys(TABLE_KEYS).sort());
});

it('keeps the dead-letter alarms under their logical ids, each on its own queue', () => {
  for (const queue of ['FanoutDeadLetterQueue', 'ChatEventsDeadLetterQueue']) {
    const alarm = cloud[queue.replace(/Queue$/, 'Alarm')]?.Properties;
    expect(alarm?.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]);
  }
});
