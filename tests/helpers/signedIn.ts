import type { RoomcastClient, RoomcastClientOptions } from '@roomcast/client';
import type { LocalCloud, LocalCloudOptions } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import type { SettingValues } from '../../tools/local/settings';
import { ChatClient, FRAME_TIMEOUT_MS, type Frame } from './chatClient';
import { libraryClient } from './libraryMember';
import { startTestCloud, type TestCloud } from './localCloud';

/**
 * A local cloud with sign-in (AuthMode=oidc, the development issuer) for a test file, started before its tests and
 * closed after them: `token(name)` is a fresh ID token of the user `name` (sub `sub-<name>`, the same user on every
 * call; the name it shows `shownAs`, `name` unless given), `device(name)` another wire connection of that user
 * (`deviceShowing(name, shownAs)`: under another name), `library(name)` another of that user's apps on the client
 * library (asking a fresh token at each connect), `ask` sends a request and waits for its reply or error, matched
 * by requestId, and `settle` waits until every fan-out is over and its frames arrived (for proving a negative).
 */
export function signedInCloud(settings: SettingValues, options: Partial<LocalCloudOptions> = {}) {
  let cloud: LocalCloud | undefined;
  let started: TestCloud | undefined;
  let issuer: DevIssuer | undefined;
  const open: ChatClient[] = [];
  const apps: RoomcastClient[] = [];
  let requests = 0;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    started = await startTestCloud({ ...options, parameters: { AuthMode: 'oidc' }, settings });
    ({ cloud } = started);
    issuer = cloud.devIssuer as DevIssuer;
  });
  afterAll(async () => {
    for (const app of apps.splice(0)) app.close();
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    await cloud?.close();
  });

  const fixture = {
    get cloud(): LocalCloud {
      if (!cloud) throw new Error('the local cloud is not started yet');
      return cloud;
    },
    /** Waits until every fan-out has finished and its frames had time to arrive (TestCloud.settle). */
    settle(): Promise<void> {
      if (!started) throw new Error('the local cloud is not started yet');
      return started.settle();
    },
    token(name: string, shownAs = name): Promise<string> {
      if (!issuer) throw new Error('the local cloud is not started yet');
      return issuer.sign({
        iss: issuer.issuer,
        aud: issuer.clientId,
        sub: `sub-${name}`,
        preferred_username: shownAs,
        iat: now(),
        exp: now() + 600,
      });
    },
    device(name: string): Promise<ChatClient> {
      return fixture.deviceShowing(name, name);
    },
    async deviceShowing(name: string, shownAs: string): Promise<ChatClient> {
      const token = await fixture.token(name, shownAs);
      const client = await ChatClient.connect(`${fixture.cloud.wsUrl}?token=${encodeURIComponent(token)}`);
      open.push(client);
      return client;
    },
    /**
     * A room the first of `names` creates and the others join by its code and key, each on a new device: the room's
     * id and key, and the devices in the order of `names`.
     */
    async roomOf<Names extends [string, ...string[]]>(...names: Names) {
      const devices: ChatClient[] = [];
      for (const name of names) devices.push(await fixture.device(name));
      const [owner, ...others] = devices as [ChatClient, ...ChatClient[]];
      const created = await owner.expectReply({ action: 'createroom' });
      const roomId = String(created.roomId);
      const key = String(created.inviteKey);
      for (const other of others) await other.expectReply({ action: 'joinroom', roomId, key });
      return { roomId, key, devices: devices as { [K in keyof Names]: ChatClient } };
    },
    library(name: string, options: Partial<RoomcastClientOptions> = {}): RoomcastClient {
      return libraryClient(fixture.cloud.wsUrl, undefined, apps, {
        getToken: () => fixture.token(name),
        ...options,
      });
    },
    /**
     * Sends `frame` and waits for the reply to it (by requestId). A `BUSY` answer (the route's deadline met on a
     * loaded machine: "try again", docs/PROTOCOL.md) is asked again, twice at most, as an app does.
     */
    async ask(client: ChatClient, frame: Record<string, unknown>): Promise<Frame> {
      for (let tries = 0; ; tries++) {
        const requestId = `r${++requests}`;
        client.send({ ...frame, requestId });
        const reply = await client.next(
          (f) => f.requestId === requestId,
          FRAME_TIMEOUT_MS,
          `the reply to ${frame.action}`,
        );
        if (tries >= 2 || reply.type !== 'error' || reply.code !== 'BUSY') return reply;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    },
  };
  return fixture;
}

/** A room `owner` creates, `others` (signed in: a room's listed members need no key) joined to it: its code. */
export async function roomWith(owner: ChatClient, ...others: ChatClient[]): Promise<string> {
  const { roomId } = (await owner.expectReply({ action: 'createroom' })) as { roomId: string };
  for (const other of others) await other.expectReply({ action: 'joinroom', roomId });
  return roomId;
}

/** Sends `message` and waits for its ack: the message's seq and room. */
export const said = async (client: ChatClient, message: string) =>
  (await client.expectReply({ action: 'sendmessage', message })) as Frame & { seq: number; roomId: string };
