import { RoomcastError } from '../../client';
import { fakeServerPerTest } from '../helpers/fakeServerPerTest';

/**
 * An owner's `setRoom` (client/roomcast.ts) that met a busy server or whose answer came too late is asked again with
 * the same values, so the room's settings are saved without the owner pressing Save twice: repeating it changes
 * nothing a first success did not. A refusal for good is told at once.
 */
const fake = fakeServerPerTest();

/** The server's answers to successive `setroom`s: null sends none (the client's request times out). */
function setroomAnswered(answers: Array<object | null>) {
  fake.server.intercept = (frame) => {
    if (frame.action !== 'setroom') return undefined;
    const answer = answers.shift();
    return answer === undefined ? { type: 'roomchanged', roomId: 'lobby', topic: frame.topic } : answer;
  };
}

it('a setRoom answered too late, then BUSY, is asked again with the same values until the room is changed', async () => {
  setroomAnswered([
    null,
    { type: 'error', code: 'BUSY', message: 'The chat is busy right now.', action: 'setroom' },
  ]);
  const chat = fake.client({ requestTimeoutMs: 1_000 });
  const saved = chat.setRoom({ topic: 'Sightings and photos' });
  await jest.advanceTimersByTimeAsync(10_000);
  await expect(saved).resolves.toMatchObject({ type: 'roomchanged', topic: 'Sightings and photos' });
  expect(fake.server.sent('setroom').map((f) => f.topic)).toEqual([
    'Sightings and photos',
    'Sightings and photos',
    'Sightings and photos',
  ]);
});

it('a setRoom refused for good is told at once and not asked again', async () => {
  setroomAnswered([{ type: 'error', code: 'FORBIDDEN', message: 'Only the owner.', action: 'setroom' }]);
  const chat = fake.client({ requestTimeoutMs: 1_000 });
  const saved = chat.setRoom({ topic: 'Mine now' });
  const told = saved.catch((error: unknown) => error);
  await jest.advanceTimersByTimeAsync(10_000);
  const error = await told;
  expect(error).toBeInstanceOf(RoomcastError);
  expect((error as RoomcastError).code).toBe('FORBIDDEN');
  expect(fake.server.sent('setroom')).toHaveLength(1);
});
