import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '#core/aws/eventbridge';
import { PublishFailed } from '#core/errors';

/**
 * PutEvents accepts some entries of a request and refuses others: the publisher sends the refused ones again, so a
 * message and its room's wake, published together, both reach the bus when EventBridge refuses one of them once.
 */
const bus = mockClient(EventBridgeClient);
const publisher = () => new EventBridgePublisher(new EventBridgeClient({}), 'chat', 'roomcast.chat');
const events = [
  { type: 'MessageSent' as const, messageId: 'm1', roomId: 'R', seq: 1, payload: '{}' },
  { type: 'RoomWake' as const, messageId: 'm1', roomId: 'R', seq: 1 },
];

afterEach(() => bus.reset());

it('sends the entries PutEvents refused again, and only those', async () => {
  bus
    .on(PutEventsCommand)
    .resolvesOnce({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'x' }],
    })
    .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
  await publisher().publish(events);
  const sent = bus
    .commandCalls(PutEventsCommand)
    .map((c) => c.args[0].input.Entries?.map((e) => e.DetailType));
  expect(sent).toEqual([['MessageSent', 'RoomWake'], ['RoomWake']]);
});

it('fails the publish when an entry is still refused after its retries', async () => {
  bus.on(PutEventsCommand).resolves({
    FailedEntryCount: 1,
    Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }],
  });
  await expect(publisher().publish(events.slice(0, 1))).rejects.toBeInstanceOf(PublishFailed);
  expect(bus.commandCalls(PutEventsCommand)).toHaveLength(3);
});
