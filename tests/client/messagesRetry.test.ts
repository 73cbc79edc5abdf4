import type { ChangedFrame } from '../../client';
import { RoomcastError } from '../../client/errors';
import { CHANGE_RETRY, MessageChanges } from '../../client/messages';

/**
 * A change the server answered BUSY (a limit met for now: its deadline, DynamoDB throttling, the message held by other
 * changes' transactions: "The chat is busy right now") or INTERNAL is sent again with the same clientMsgId after a jittered wait, so the app sees it applied once; other
 * refusals are the app's at once, and a server that stays busy is reported after the last attempt.
 */

const busy = () => new RoomcastError('BUSY', 'The chat is busy right now. Retry in a moment.');
const internal = () => new RoomcastError('INTERNAL', 'Something went wrong on our side. Please try again.');
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
      return answer as ChangedFrame;
    },
    undefined,
    { sleep: async (ms) => void waits.push(ms), random: () => 0.999 },
  );
  return { changes, sent, waits };
}

it('sends an edit answered BUSY, then INTERNAL, again with the same clientMsgId, after growing waits, until it is applied', async () => {
  const { changes, sent, waits } = fakeServer([busy(), internal(), changed]);
  await expect(changes.edit(3, 'fixed')).resolves.toMatchObject({ type: 'changed', seq: 7 });
  expect(sent).toHaveLength(3);
  expect(new Set(sent.map((f) => f.clientMsgId)).size).toBe(1);
  expect(sent.every((f) => f.action === 'editmessage' && f.seq === 3 && f.message === 'fixed')).toBe(true);
  expect(waits).toEqual([249, 499]);
});

it('reports a refusal other than BUSY or INTERNAL at once, without sending it again', async () => {
  const { changes, sent } = fakeServer([
    new RoomcastError('NOT_AUTHOR', 'Only its author can edit it.'),
    changed,
  ]);
  await expect(changes.react(3, '👍')).rejects.toMatchObject({ code: 'NOT_AUTHOR' });
  expect(sent).toHaveLength(1);
});

it('gives up after its last attempt when the room stays busy, with the server’s BUSY', async () => {
  const { changes, sent, waits } = fakeServer(Array.from({ length: 10 }, busy));
  await expect(changes.delete(3)).rejects.toMatchObject({ code: 'BUSY' });
  expect(sent).toHaveLength(CHANGE_RETRY.maxAttempts);
  expect(waits.every((ms) => ms < CHANGE_RETRY.maxDelayMs)).toBe(true);
});

it('coalesces rapid toggles of one reaction: one frame in flight, then only the final state if it differs', async () => {
  const sent: Array<Record<string, unknown>> = [];
  const answers: Array<() => void> = [];
  const changes = new MessageChanges(async (frame) => {
    sent.push(frame);
    await new Promise<void>((resolve) => answers.push(resolve));
    return changed;
  });
  // Five clicks while the first is on its way: add, remove, add, remove, add.
  const replies = [
    changes.react(3, '👍'),
    changes.unreact(3, '👍'),
    changes.react(3, '👍'),
    changes.unreact(3, '👍'),
    changes.unreact(3, '👍'),
  ];
  const other = changes.react(4, '👍'); // another message: its own frame at once
  expect(sent.map((f) => [f.seq, f.remove ?? false])).toEqual([
    [3, false],
    [4, false],
  ]);
  answers.shift()?.();
  await new Promise((resolve) => setTimeout(resolve, 0));
  // The first answered; the member now wants it removed: one more frame, the final state.
  expect(sent.map((f) => [f.seq, f.remove ?? false])).toEqual([
    [3, false],
    [4, false],
    [3, true],
  ]);
  for (const answer of answers.splice(0)) answer();
  await expect(Promise.all([...replies, other])).resolves.toHaveLength(6);
  expect(sent).toHaveLength(3);
});

it('tells a toggle button what the member asked while a toggle is on its way, so quick clicks alternate', async () => {
  const answers: Array<() => void> = [];
  const sent: Array<Record<string, unknown>> = [];
  const changes = new MessageChanges(async (frame) => {
    sent.push(frame);
    await new Promise<void>((resolve) => answers.push(resolve));
    return changed;
  });
  expect(changes.wanted(3, '👍')).toBeUndefined();
  // The chip said "not mine" for all four clicks (no reply yet); each click reads what the last one asked.
  const click = (mine: boolean) => {
    const given = changes.wanted(3, '👍') ?? mine;
    return given ? changes.unreact(3, '👍') : changes.react(3, '👍');
  };
  const replies = [click(false), click(false), click(false), click(false)];
  expect(changes.wanted(3, '👍')).toBe(false);
  // The same emoji as the server stores it: a bare ❤ is ❤️.
  void changes.react(5, '❤');
  expect(changes.wanted(5, '❤️')).toBe(true);
  answers.shift()?.();
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Four clicks, an even number: the member ends where they began, so the final frame takes the reaction back.
  expect(sent.filter((f) => f.seq === 3).map((f) => f.remove ?? false)).toEqual([false, true]);
  for (const answer of answers.splice(0)) answer();
  await Promise.all(replies);
  expect(changes.wanted(3, '👍')).toBeUndefined();
});
