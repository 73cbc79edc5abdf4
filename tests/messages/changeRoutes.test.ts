import { BadRequest } from '#core/errors';
import { parseChangeRequest } from '#messages/changeParse';
import { changeRoutes } from '#messages/changes';
import { ACTIONS, REPLY_TYPE } from '#protocol';

/**
 * The messages function serves a route for every change action the protocol names (reply `changed`), so a new
 * change kind needs no line in the route table (docs/CONTRIBUTING.md, "A new change kind"); a kind the protocol names
 * before its rule is written is refused with a clear error.
 */
it('serves every action whose reply is `changed`, and only those', () => {
  const changes = ACTIONS.filter((action) => REPLY_TYPE[action] === 'changed');
  expect(changes).toEqual(expect.arrayContaining(['editmessage', 'deletemessage', 'react', 'pinmessage']));
  expect(changeRoutes.map((route) => route.key).sort()).toEqual([...changes].sort());
  for (const route of changeRoutes) expect(route.scope).toBe('room');
});

it('refuses a change action it has no rule for', () => {
  expect(() => parseChangeRequest('archivemessage', {})).toThrow(BadRequest);
  expect(() => parseChangeRequest('archivemessage', {})).toThrow(
    '"archivemessage" is not a change this server can make yet.',
  );
  expect(parseChangeRequest('react', { reaction: '👍' })).toEqual({
    kind: 'react',
    reaction: '👍',
    remove: false,
  });
});
