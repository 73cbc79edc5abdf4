import { followersTold } from '#threads/threads';

/**
 * Whom a thread reply's push tells (functions/threads/threads.ts `followersTold`): the push function reads
 * the root while the send may still be counting the reply on it, so the first reply must reach the root's author
 * whichever of the two writes it sees.
 */
const root = { authorUser: 'user:alice', followerUsers: [] as string[], replyCount: 0 };

it("tells the root's author of the first reply when the root is read before the reply is counted", () => {
  expect(followersTold(root)).toEqual(['user:alice']);
});

it('tells the same people when the root is read after the first reply is counted', () => {
  const counted = { ...root, replyCount: 1, followerUsers: ['user:alice', 'user:bob'] };
  expect(followersTold(counted)).toEqual(['user:alice', 'user:bob']);
  expect(followersTold({ ...root, followerUsers: ['user:bob'] }).sort()).toEqual(['user:alice', 'user:bob']);
});

it('tells an author who unfollowed after the first reply nothing more', () => {
  expect(followersTold({ ...root, replyCount: 3, followerUsers: ['user:bob'] })).toEqual(['user:bob']);
});

it('tells no author who was not signed in when the root was sent', () => {
  expect(followersTold({ replyCount: 0, followerUsers: [] })).toEqual([]);
});
