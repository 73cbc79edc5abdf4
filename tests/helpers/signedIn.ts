import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import type { SettingValues } from '../../tools/local/settings';
import { ChatClient, type Frame } from './chatClient';
import { startTestCloud } from './localCloud';

/**
 * A local cloud with sign-in (AuthMode=oidc, the development issuer) for a test file, started before its tests and
 * closed after them: `device(name)` is another connection of the user `name` (sub `sub-<name>`, the same user on
 * every call), `ask` sends a request and waits for its reply or error, matched by requestId.
 */
export function signedInCloud(settings: SettingValues) {
  let cloud: LocalCloud | undefined;
  let issuer: DevIssuer | undefined;
  const open: ChatClient[] = [];
  let requests = 0;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    ({ cloud } = await startTestCloud({ parameters: { AuthMode: 'oidc' }, settings }));
    issuer = cloud.devIssuer as DevIssuer;
  });
  afterAll(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    await cloud?.close();
  });

  return {
    get cloud(): LocalCloud {
      if (!cloud) throw new Error('the local cloud is not started yet');
      return cloud;
    },
    async device(name: string): Promise<ChatClient> {
      if (!cloud || !issuer) throw new Error('the local cloud is not started yet');
      const token = await issuer.sign({
        iss: issuer.issuer,
        aud: issuer.clientId,
        sub: `sub-${name}`,
        preferred_username: name,
        iat: now(),
        exp: now() + 600,
      });
      const client = await ChatClient.connect(`${cloud.wsUrl}?token=${encodeURIComponent(token)}`);
      open.push(client);
      return client;
    },
    async ask(client: ChatClient, frame: Record<string, unknown>): Promise<Frame> {
      const requestId = `r${++requests}`;
      client.send({ ...frame, requestId });
      return client.next((f) => f.requestId === requestId, 20_000, `the reply to ${frame.action}`);
    },
  };
}
