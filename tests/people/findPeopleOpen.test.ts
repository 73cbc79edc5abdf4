import { ChatClient, type Frame } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The open chat (AuthMode=none) keeps no directory of people: `findpeople` and `opendm` are refused FORBIDDEN with a
 * sentence saying they need sign-in (functions/people/people.ts), whatever the prefix.
 */
jest.setTimeout(240_000);

let test: TestCloud;
const open: ChatClient[] = [];
beforeAll(async () => {
  test = await startTestCloud({ parameters: { AuthMode: 'none' }, settings: { FrameRateLimit: '1000' } });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await test?.cloud.close();
});

it('refuses findpeople in open mode, saying why direct messages need sign-in', async () => {
  const connect = async (name: string) => {
    const c = await ChatClient.connect(`${test.cloud.wsUrl}?username=${name}`);
    open.push(c);
    return c;
  };
  const [ana, bob] = await Promise.all([connect('ana'), connect('bob')]);
  ana.send({ action: 'createroom', requestId: 'c' });
  const room = await ana.next((f) => f.requestId === 'c');
  bob.send({ action: 'joinroom', roomId: room.roomId, key: room.inviteKey, requestId: 'j' });
  await bob.next((f) => f.requestId === 'j');
  ana.send({ action: 'findpeople', prefix: 'bo', requestId: 'f' });
  const refused: Frame = await ana.next((f) => f.requestId === 'f');
  expect(refused).toMatchObject({ type: 'error', code: 'FORBIDDEN', action: 'findpeople' });
  expect(String(refused.message)).toMatch(/need sign-in/);
});
