import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRoomMemberCheck } from '#core/aws/roomMemberCheck';
import { DynamoRoomStore } from '#core/aws/rooms';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { memberKey } from '#core/memberKeys';
import { connectionStore, quotaStore } from '#core/wiring/dynamodb';
import { DynamoPeopleStore } from '#people/dynamoPeople';
import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { settings } from '#platform/settings';
import { DynamoBlockStore } from '#safety/dynamoBlocks';
import { readThreadRoot } from '#threads/dynamoThreadRoots';
import { followersTold } from '#threads/threads';
import { DynamoPushSubscriptions } from './dynamoPushSubscriptions';
import type { NotifyDeps } from './notify';
import { vapidKeys } from './vapid';
import { WebPushSender } from './webPush';

/** The push feature's adapters, each given the names template.yaml sets for it. */
export const pushSubscriptions = () =>
  new DynamoPushSubscriptions(documentClient(), requireEnv('PUSH_SUBSCRIPTIONS_TABLE'));

/** The VAPID keys (Parameter Store, VAPID_KEYS_PARAMETER) and the contact they are sent with (PUSH_CONTACT). */
export const keys = () => vapidKeys(requireEnv('VAPID_KEYS_PARAMETER'), requireEnv('PUSH_CONTACT'));

/**
 * The local cloud's push service stand-in (its origin), the one http endpoint a subscription may name there. Set
 * only by the local cloud (tools/local/settings.ts, LOCAL_PUSH_SERVICE_VARIABLE); never in template.yaml.
 */
export const localPushService = (): string | undefined => process.env.PUSH_SERVICE_STANDIN || undefined;

export function notifyDeps(): NotifyDeps {
  const rooms = new DynamoRoomStore(documentClient(), config.roomsTable());
  const people = new DynamoPeopleStore(documentClient(), {
    memberships: requireEnv('MEMBERSHIPS_TABLE'),
    peopleIndex: requireEnv('PEOPLE_INDEX'),
  });
  const limits = quotaStore();
  const blocks = new DynamoBlockStore(documentClient(), requireEnv('MEMBERSHIPS_TABLE'));
  return {
    dmMembersOf: async (roomId) => (await rooms.get(roomId))?.dmMembers,
    // Only for an event that carries no name (a retry's publish): one eventually consistent GetItem, 0.5 RRU.
    roomNameOf: async (roomId) => {
      const { Item } = await documentClient().send(
        new GetCommand({
          TableName: config.roomsTable(),
          Key: { roomId },
          ProjectionExpression: '#name',
          ExpressionAttributeNames: { '#name': 'name' },
        }),
      );
      return typeof Item?.name === 'string' ? Item.name : undefined;
    },
    // `@name`s resolved in the people feature's PeopleIndex, the one read of its store push makes.
    namedIn: (roomId, prefix, limit) => people.namedIn(roomId, prefix, limit),
    devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
    members: new DynamoRoomMemberCheck(documentClient(), requireEnv('MEMBERSHIPS_TABLE')),
    // A signed-in person's block list is theirs across devices (safety/: `blocks#<userId>`).
    blocksAuthor: async (userId, message) =>
      message.authorKey !== undefined &&
      (await blocks.list(userId)).some((entry) => memberKey(message.roomId, entry.who) === message.authorKey),
    // A runtime setting, read on every call.
    takeTurn: (roomId, userId) =>
      limits.takeTurn(`push#${roomId}#${userId}`, Date.now(), settings().PushCoalesceSeconds * 1000),
    subscriptions: pushSubscriptions(),
    sender: new WebPushSender(keys, { localPushService: localPushService() }),
    // A reply in a thread tells the thread's signed-in followers, read from its root as the reply makes it (threads.ts).
    threadFollowers: async (message) => {
      if (message.threadOf === undefined) return [];
      const root = await readThreadRoot(
        documentClient(),
        config.messagesTable(),
        message.roomId,
        message.threadOf,
        Math.floor(Date.now() / 1000),
      );
      return root ? followersTold(root) : [];
    },
  };
}

export const connections = () => connectionStore();
