import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { LocalCloudOptions } from '../../tools/local/cloud';
import { type ChatClient, type Frame, isPresence } from '../helpers/chatClient';
import { type RoomCloud, roomCloud } from '../helpers/roomCloud';

/**
 * The chat end to end (chat.test.ts, chatCoverage.test.ts): real WebSocket clients talking to the local cloud, which
 * runs template.yaml with the built handlers, dynalite, the local EventBridge and the fan-out state machine. One
 * cloud per test file; every test uses its own rooms and usernames, and the clients it opens are closed after it.
 */
export const ROOM_CODE = /^[A-HJ-NP-Z2-9]{8}$/;
export const CONNECTION_ID = /^[A-Za-z0-9_-]{15}=$/;

/**
 * Starts the file's cloud before its tests (and closes it after); the returned world is filled in by then. `options`
 * go to the local cloud beside these settings (a test clock, say).
 */
export function useChatCloud(options: Partial<LocalCloudOptions> = {}): RoomCloud {
  // These tests send bursts from one connection, and one connection sends every kind of bad input in turn; the
  // per-connection limits have tests of their own (tests/security: every sendmessage counts against
  // FrameRateLimit, and every malformed frame is a strike towards StrikeLimit).
  current = roomCloud(
    { ...options, settings: { SendRateLimit: '1000', FrameRateLimit: '100000', StrikeLimit: '100000' } },
    {
      reset: (cloud) => {
        cloud.gateway.setFaults({ faultSkipDisconnect: 0, disconnectDelayMs: 0 });
        cloud.eventBridge.setFaultPutEvents(0);
      },
    },
  );
  return current;
}

let current: RoomCloud | undefined;
function world(): RoomCloud {
  if (!current) throw new Error('call useChatCloud() at the top of the test file');
  return current;
}

/** Closes this client after the test. */
export function closeAfterTest(client: ChatClient): void {
  world().keep(client);
}

/** A client of the file's cloud, closed after the test. */
export function connect(username?: string): Promise<ChatClient> {
  return world().connect(username);
}

export async function createRoom(owner: ChatClient): Promise<string> {
  const joined = await owner.expectReply({ action: 'createroom' });
  return joined.roomId as string;
}

/** Joins and waits until the room, the joiner included, has seen the join, so later assertions start clean. */
export async function joinRoom(
  client: ChatClient,
  roomId: string,
  members: ChatClient[] = [],
): Promise<Frame> {
  const joined = await client.expectReply({ action: 'joinroom', roomId });
  await Promise.all([...members, client].map((m) => m.next(isPresence(roomId, 'join', client.username))));
  return joined;
}

/** A room with these clients in it, the first one its creator. */
export async function roomOf(...clients: ChatClient[]): Promise<string> {
  const [owner, ...others] = clients;
  if (!owner) throw new Error('roomOf needs at least one client');
  const roomId = await createRoom(owner);
  for (let i = 0; i < others.length; i++) {
    await joinRoom(others[i] as ChatClient, roomId, clients.slice(0, i + 1));
  }
  return roomId;
}

export async function say(client: ChatClient, message: string, clientMsgId?: string): Promise<Frame> {
  return client.expectReply({ action: 'sendmessage', message, ...(clientMsgId ? { clientMsgId } : {}) });
}

export async function membersSeenBy(client: ChatClient): Promise<string[]> {
  const reply = await client.expectReply({ action: 'who' });
  return [...(reply.members as string[])].sort();
}

export async function connectionItem(connectionId: string) {
  const { Item } = await world().db.send(
    new GetItemCommand({
      TableName: world().table('ConnectionsTable'),
      Key: { connectionId: { S: connectionId } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** A connection's subscription to a room (its entry in the room's index while it has `roomKey`). */
export async function subscriptionItem(connectionId: string, roomId: string) {
  const { Item } = await world().db.send(
    new GetItemCommand({
      TableName: world().table('SubscriptionsTable'),
      Key: { connectionId: { S: connectionId }, roomId: { S: roomId } },
      ConsistentRead: true,
    }),
  );
  return Item;
}

export const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Polls a cheap, local condition (no network): for state the gateway exposes only by reading it. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
