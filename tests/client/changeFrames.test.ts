import { isChangeFrame } from '../../client/validate';

/**
 * A change frame is applied to the message it names only when it carries what its type needs (protocol/changes.ts,
 * CHANGE_FRAME_CHECKS): a malformed one never edits, deletes or re-counts a message on anyone's screen.
 */
const event = { roomId: 'AAAAAAAA', seq: 7, targetSeq: 3, messageId: 'm', username: 'bob', sentAt: 'now' };

it('takes each change kind with its own fields', () => {
  expect(isChangeFrame({ ...event, type: 'edited', text: 'fixed' })).toBe(true);
  expect(isChangeFrame({ ...event, type: 'deleted', by: 'owner' })).toBe(true);
  expect(isChangeFrame({ ...event, type: 'reaction', reaction: '👍', added: true, count: 2 })).toBe(true);
});

it('refuses a change frame without what its kind needs, or of a kind it does not know', () => {
  expect(isChangeFrame({ ...event, type: 'edited' })).toBe(false);
  expect(isChangeFrame({ ...event, type: 'deleted', by: 'someone' })).toBe(false);
  expect(isChangeFrame({ ...event, type: 'reaction', reaction: '👍', added: true })).toBe(false);
  expect(isChangeFrame({ ...event, type: 'pinned' })).toBe(false);
  // Names every object has: never mistaken for a kind.
  expect(isChangeFrame({ ...event, type: 'constructor' })).toBe(false);
  expect(isChangeFrame({ ...event, type: 'toString' })).toBe(false);
  expect(isChangeFrame({ ...event, type: 'edited', text: 'x', targetSeq: undefined })).toBe(false);
});
