import type { RoomcastClientOptions, RoomcastError } from '../../client';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * The owner's actions and their effects on members, as an app using the client sees them: the owner rotates the
 * key, removes a member or closes the room; a member hears `keyrotated`, `removed` or `roomclosed` and is in the
 * lobby after the last two; a rejoin after a reconnect uses the newest key, and one into a closed room lands in the
 * lobby.
 */
const fake = fakeServerPerTest();

const NEW_KEY = 'NEWKEY0123456789';

async function inRoom(options: Partial<RoomcastClientOptions> = {}) {
  const chat = fake.client(options);
  const rooms: string[] = [];
  const errors: RoomcastError[] = [];
  chat.on('room', (r) => rooms.push(r.roomId));
  chat.on('error', (e) => errors.push(e));
  await tick();
  fake.server.rooms.set('ABCDEFGH', []);
  const joining = chat.join('ABCDEFGH');
  await tick();
  await joining;
  return { chat, rooms, errors };
}

/** Runs a request of the client against the fake server, one tick later. */
async function answered<T>(request: Promise<T>): Promise<T> {
  await tick();
  return request;
}

describe('the owner', () => {
  it('rotateKey() resolves with the new key, which the next rejoin uses', async () => {
    const { chat } = await inRoom();
    fake.server.intercept = (frame) =>
      frame.action === 'rotatekey'
        ? { type: 'keyrotated', roomId: 'ABCDEFGH', inviteKey: NEW_KEY }
        : undefined;
    const rotated = await answered(chat.rotateKey());
    expect(rotated).toMatchObject({ type: 'keyrotated', inviteKey: NEW_KEY });
    expect(fake.server.sent('rotatekey')).toHaveLength(1);
    expect(chat.inviteKey).toBe(NEW_KEY);
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.server.sent('joinroom').at(-1)).toMatchObject({ roomId: 'ABCDEFGH', key: NEW_KEY });
  });

  it('removeMember() sends the name and keeps the new key; a FORBIDDEN refusal rejects with its code', async () => {
    const { chat } = await inRoom();
    fake.server.intercept = (frame) =>
      frame.action === 'removemember'
        ? {
            type: 'memberremoved',
            roomId: 'ABCDEFGH',
            username: frame.username,
            removed: 1,
            inviteKey: NEW_KEY,
          }
        : undefined;
    expect(await answered(chat.removeMember('bob'))).toMatchObject({ username: 'bob', removed: 1 });
    expect(fake.server.sent('removemember').at(-1)).toMatchObject({ username: 'bob' });
    expect(chat.inviteKey).toBe(NEW_KEY);
    fake.server.intercept = () => ({
      type: 'error',
      code: 'FORBIDDEN',
      message: 'Only the member who created room ABCDEFGH can close it.',
      action: 'closeroom',
    });
    const refused = chat.closeRoom().catch((error: RoomcastError) => error);
    await tick();
    expect(await refused).toMatchObject({ code: 'FORBIDDEN' });
    expect(chat.roomId).toBe('ABCDEFGH');
  });

  it('closeRoom() puts the owner in the lobby', async () => {
    const { chat, rooms } = await inRoom();
    fake.server.intercept = (frame) =>
      frame.action === 'closeroom'
        ? { type: 'roomclosed', roomId: 'ABCDEFGH', message: 'closed' }
        : undefined;
    await answered(chat.closeRoom());
    await tick();
    expect(chat.roomId).toBe('lobby');
    expect(rooms.at(-1)).toBe('lobby');
  });
});

describe('a member', () => {
  it('takes the key a keyrotated frame brings, and rejoins with it after a reconnect', async () => {
    const { chat } = await inRoom();
    const heard: string[] = [];
    chat.on('keyrotated', (f) => heard.push(f.inviteKey));
    fake.server.last.push({ type: 'keyrotated', roomId: 'ABCDEFGH', inviteKey: NEW_KEY });
    await tick();
    expect(heard).toEqual([NEW_KEY]);
    expect(chat.inviteKey).toBe(NEW_KEY);
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.server.sent('joinroom').at(-1)).toMatchObject({ key: NEW_KEY });
  });

  it.each([
    ['removed', 'The owner of room ABCDEFGH removed you from it.'],
    ['roomclosed', 'Room ABCDEFGH was closed by its owner.'],
  ] as const)('hears %s, is in the lobby, and forgets the key', async (type, message) => {
    const { chat, rooms } = await inRoom();
    const heard: string[] = [];
    chat.on(type, (f) => heard.push(f.message));
    fake.server.last.push({ type, roomId: 'ABCDEFGH', message });
    await tick();
    expect(heard).toEqual([message]);
    expect(chat.roomId).toBe('lobby');
    expect(rooms.at(-1)).toBe('lobby');
    expect(chat.inviteKey).toBeUndefined();
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.server.sent('joinroom').filter((f) => f.roomId === 'ABCDEFGH')).toHaveLength(1);
  });

  it('ignores removed and roomclosed frames of a room it is no longer in', async () => {
    const { chat } = await inRoom();
    const heard: string[] = [];
    chat.on('removed', (f) => heard.push(f.roomId));
    fake.server.last.push({ type: 'removed', roomId: 'ZZZZZZZZ', message: 'x' });
    await tick();
    expect(heard).toEqual([]);
    expect(chat.roomId).toBe('ABCDEFGH');
  });

  it('lands in the lobby when its rejoin after a reconnect finds the room closed', async () => {
    const { chat, errors } = await inRoom();
    fake.server.intercept = (frame) =>
      frame.action === 'joinroom'
        ? {
            type: 'error',
            code: 'ROOM_CLOSED',
            message: 'Room ABCDEFGH was closed by its owner.',
            action: 'joinroom',
          }
        : undefined;
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(chat.state).toBe('ready');
    expect(chat.roomId).toBe('lobby');
    expect(errors.map((e) => e.code)).toContain('ROOM_CLOSED');
  });
});
