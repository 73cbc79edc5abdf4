import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * `findpeople` and `setprofile` draw on the person's budgets across all its connections (PersonPeopleRateLimit,
 * PersonProfileRateLimit per PersonRateWindowSeconds), signed in (AuthMode=oidc): a second device of the same user,
 * under another name, is refused RATE_LIMITED once the first has spent the budget, while another user is not. The
 * window is an hour, so no token comes back while the test runs.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({
  JoinGuessLimit: '1000',
  PersonPeopleRateLimit: '3',
  PersonProfileRateLimit: '2',
  PersonRateWindowSeconds: '3600',
});
const codeOf = (reply: Frame) => (reply.type === 'error' ? reply.code : reply.type);

it('refuses a person past its budget of people searches and profile changes on every device, not another person', async () => {
  const { devices } = await chat.roomOf('ana', 'ben');
  const [ana, ben] = devices;
  const anaPhone = await chat.deviceShowing('ana', 'ana on the phone');

  for (let i = 0; i < 3; i++)
    expect(codeOf(await chat.ask(ana, { action: 'findpeople', prefix: 'b' }))).toBe('people');
  const refused = await chat.ask(anaPhone, { action: 'findpeople', prefix: 'b' });
  expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  expect(refused.message).toMatch(/people searches/);
  expect(codeOf(await chat.ask(ben, { action: 'findpeople', prefix: 'a' }))).toBe('people');

  for (const status of ['one', 'two'])
    expect(codeOf(await chat.ask(anaPhone, { action: 'setprofile', status }))).toBe('profile');
  const tooMany = await chat.ask(ana, { action: 'setprofile', status: 'three' });
  expect(tooMany).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  expect(tooMany.message).toMatch(/profile changes/);
  expect(codeOf(await chat.ask(ben, { action: 'setprofile', status: 'fine' }))).toBe('profile');
});
