import { RoomcastError } from '../../client/errors';
import type { ChangedFrame } from '../../client/index';
import { CHANGE_RETRY, MessageChanges } from '../../client/messages';

/**
 * A change the server answered INTERNAL (it gave up on a busy room's conflicting transactions: "The chat is busy
 * right now") is sent again with the same clientMsgId after a jittered wait, so the app sees it applied once; other
 * refusals are the app's at once, and a server that stays busy is reported after the last attempt.
 */

const busy = () => new RoomcastError('INTERNAL', 'The chat is busy right now. Retry in a moment.');
const changed: ChangedFrame = {
  type: 'changed',
  roomId: 'ABCDEFGH',
  seq: 7,
  clientMsgId: 'x',
  message: undefined,
} as unknown as ChangedFrame;

function fakeServer(answers: Array<RoomcastError | ChangedFrame>) {
  const sent: Array<Record<string, unknown>> = [];
  const waits: number[] = [];
  const changes = new MessageChanges(
    async (frame) => {
      sent.push(frame);
      const answer = answers.shift();
      if (answer instanceof RoomcastError) throw answer;
      return answer as unknown as Record<string, unknown>;
    },
    undefined,
    { sleep: async (ms) => void waits.push(ms), random: () => 0.999 },
  );
  return { changes, sent, waits };
}

it('sends an edit answered INTERNAL again with the same clientMsgId, after growing waits, until it is applied', async () => {
  const { changes, sent, waits } = fakeServer([busy(), busy(), changed]);
  await expect(changes.edit(3, 'fixed')).resolves.toMatchObject({ type: 'changed', seq: 7 });
  expect(sent).toHaveLength(3);
  expect(new Set(sent.map((f) => f.clientMsgId)).size).toBe(1);
  expect(sent.every((f) => f.action === 'editmessage' && f.seq === 3 && f.message === 'fixed')).toBe(true);
  expect(waits).toEqual([249, 499]);
});

it('reports a refusal other than INTERNAL at once, without sending it again', async () => {
  const { changes, sent } = fakeServer([
    new RoomcastError('NOT_AUTHOR', 'Only its author can edit it.'),
    changed,
  ]);
  await expect(changes.react(3, '👍')).rejects.toMatchObject({ code: 'NOT_AUTHOR' });
  expect(sent).toHaveLength(1);
});

it('gives up after its last attempt when the room stays busy, with the server’s INTERNAL', async () => {
  const { changes, sent, waits } = fakeServer(Array.from({ length: 10 }, busy));
  await expect(changes.delete(3)).rejects.toMatchObject({ code: 'INTERNAL' });
  expect(sent).toHaveLength(CHANGE_RETRY.maxAttempts);
  expect(waits.every((ms) => ms < CHANGE_RETRY.maxDelayMs)).toBe(true);
});
