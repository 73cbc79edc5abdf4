import { DM_NOTICE_MAX_DEVICES, notifyDmOpened } from '#people/dmNotice';

/**
 * The notice of a direct message (functions/people/dmNotice.ts): every connected device of the other user gets
 * `dmopened`, at most DM_NOTICE_MAX_DEVICES of them, and a failure to find or reach them never fails the opener.
 */

const room = {
  roomId: 'QFA7S6EBYMVW',
  lastSeq: 0,
  lastReadSeq: 0,
  unread: 0,
  dm: { userId: `user:${'a'.repeat(43)}`, username: 'ben' },
};

it("posts dmopened to each of the user's devices, asking for no more than the bound", async () => {
  const asked: Array<[string, number]> = [];
  const posted: Array<[string, unknown]> = [];
  const told = await notifyDmOpened(
    {
      devices: {
        connectionsOf: async (userId, limit) => {
          asked.push([userId, limit]);
          return ['phone', 'laptop', 'gone'];
        },
      },
      notifier: {
        post: async (id, payload) => {
          posted.push([id, JSON.parse(payload)]);
          return id === 'gone' ? 'gone' : 'delivered';
        },
      },
    },
    'user:ana',
    room,
  );
  expect(asked).toEqual([['user:ana', DM_NOTICE_MAX_DEVICES]]);
  expect(posted.map(([id]) => id)).toEqual(['phone', 'laptop', 'gone']);
  expect(posted[0]?.[1]).toEqual({ type: 'dmopened', room });
  expect(told).toBe(2);
});

it('answers 0 instead of throwing when the devices cannot be read or a post fails', async () => {
  const unreadable = notifyDmOpened(
    {
      devices: { connectionsOf: () => Promise.reject(new Error('throttled')) },
      notifier: { post: async () => 'delivered' },
    },
    'user:ana',
    room,
  );
  await expect(unreadable).resolves.toBe(0);
  const unreachable = notifyDmOpened(
    {
      devices: { connectionsOf: async () => ['phone'] },
      notifier: { post: () => Promise.reject(new Error('reset')) },
    },
    'user:ana',
    room,
  );
  await expect(unreachable).resolves.toBe(0);
});
