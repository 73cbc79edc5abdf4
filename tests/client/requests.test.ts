import { RoomcastError } from '../../client/errors';
import { Requests } from '../../client/requests';

/** The requests waiting for replies (client/requests.ts) alone, on Jest's fake clock. */
jest.useFakeTimers();
afterEach(() => jest.clearAllTimers());

function requests(write: (frame: Record<string, unknown>) => void = () => {}) {
  let n = 0;
  return new Requests(1_000, () => `r-${++n}`, write);
}

it('each request goes out with its own requestId and is settled by the reply that names it, in any order', async () => {
  const sent: Array<Record<string, unknown>> = [];
  const r = requests((frame) => sent.push(frame));
  const who = r.send({ action: 'who' });
  const info = r.sendFrame({ action: 'info' });
  expect(sent).toEqual([
    { action: 'who', requestId: 'r-1' },
    { action: 'info', requestId: 'r-2' },
  ]);
  expect(r.answer({ type: 'info', requestId: 'r-2' })).toBe(true);
  expect(r.answer({ type: 'members', requestId: 'r-1' })).toBe(true);
  expect(r.answer({ type: 'members', requestId: 'r-1' })).toBe(false); // late copy: nothing waits
  await expect(who).resolves.toEqual({ type: 'members', requestId: 'r-1' });
  await expect(info).resolves.toEqual({ type: 'info', requestId: 'r-2' });
  expect(r.size).toBe(0);
});

it('times out after its timeout with TIMEOUT naming the action, and a late reply then finds nothing waiting', async () => {
  const r = requests();
  const history = r.send({ action: 'history' });
  const settled = expect(history).rejects.toMatchObject({
    code: 'TIMEOUT',
    details: { action: 'history', requestId: 'r-1' },
  });
  await jest.advanceTimersByTimeAsync(999);
  expect(r.size).toBe(1);
  await jest.advanceTimersByTimeAsync(1);
  await settled;
  expect(r.answer({ type: 'history', requestId: 'r-1' })).toBe(false);
});

it('an error frame rejects the request it names; a disconnect rejects each waiting one with its own requestId', async () => {
  const r = requests();
  const join = r.send({ action: 'joinroom', roomId: 'ABCDEFGH' });
  expect(r.reject('r-1', new RoomcastError('ROOM_NOT_FOUND', 'no such room'))).toBe(true);
  await expect(join).rejects.toMatchObject({ code: 'ROOM_NOT_FOUND' });
  const a = r.send({ action: 'who' });
  const b = r.sendFrame({ action: 'info' });
  r.failAll(new RoomcastError('DISCONNECTED', 'gone'));
  await expect(a).rejects.toMatchObject({
    code: 'DISCONNECTED',
    details: { action: 'who', requestId: 'r-2' },
  });
  await expect(b).rejects.toMatchObject({
    code: 'DISCONNECTED',
    details: { action: 'info', requestId: 'r-3' },
  });
});

it('a request that cannot be written rejects at once and leaves nothing waiting', async () => {
  const r = requests(() => {
    throw new RoomcastError('DISCONNECTED', 'Not connected.');
  });
  await expect(r.send({ action: 'who' })).rejects.toMatchObject({ code: 'DISCONNECTED' });
  expect(r.size).toBe(0);
});
