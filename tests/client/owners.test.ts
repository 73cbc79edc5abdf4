import type { RoomcastClient, RoomcastClientOptions } from '../../client/index';
import { createRoomcastClient, type RoomcastError } from '../../client/index';
import { FakeRoomcastServer } from '../helpers/fakeRoomcastServer';

/**
 * The owner's actions and their effects on members, as an app using the client sees them: the owner rotates the
 * key, removes a member or closes the room; a member hears `keyrotated`, `removed` or `roomclosed` and is in the
 * lobby after the last two; a rejoin after a reconnect uses the newest key, and one into a closed room lands in the
 * lobby.
 */
jest.useFakeTimers();

let server: FakeRoomcastServer;
const clients: RoomcastClient[] = [];

beforeEach(() => {
  server = new FakeRoomcastServer();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  jest.clearAllTimers();
});

const tick = (ms = 20) => jest.advanceTimersByTimeAsync(ms);
const NEW_KEY = 'NEWKEY0123456789';

async function inRoom(options: Partial<RoomcastClientOptions> = {}) {
  const chat = createRoomcastClient({
    url: 'ws://fake/prod',
    username: 'me',
    WebSocket: server.WebSocket,
    random: () => 0.5,
    ...options,
  });
  clients.push(chat);
  const rooms: string[] = [];
  const errors: RoomcastError[] = [];
  chat.on('room', (r) => rooms.push(r.roomId));
  chat.on('error', (e) => errors.push(e));
  await tick();
  server.rooms.set('ABCDEFGH', []);
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
    server.intercept = (frame) =>
      frame.action === 'rotatekey'
        ? { type: 'keyrotated', roomId: 'ABCDEFGH', inviteKey: NEW_KEY }
        : undefined;
    const rotated = await answered(chat.rotateKey());
    expect(rotated).toMatchObject({ type: 'keyrotated', inviteKey: NEW_KEY });
    expect(server.sent('rotatekey')).toHaveLength(1);
    expect(chat.inviteKey).toBe(NEW_KEY);
    server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(server.sent('joinroom').at(-1)).toMatchObject({ roomId: 'ABCDEFGH', key: NEW_KEY });
  });

  it('removeMember() sends the name and keeps the new key; a FORBIDDEN refusal rejects with its code', async () => {
    const { chat } = await inRoom();
    server.intercept = (frame) =>
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
    expect(server.sent('removemember').at(-1)).toMatchObject({ username: 'bob' });
    expect(chat.inviteKey).toBe(NEW_KEY);
    server.intercept = () => ({
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
    server.intercept = (frame) =>
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
    server.last.push({ type: 'keyrotated', roomId: 'ABCDEFGH', inviteKey: NEW_KEY });
    await tick();
    expect(heard).toEqual([NEW_KEY]);
    expect(chat.inviteKey).toBe(NEW_KEY);
    server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(server.sent('joinroom').at(-1)).toMatchObject({ key: NEW_KEY });
  });

  it.each([
    ['removed', 'The owner of room ABCDEFGH removed you from it.'],
    ['roomclosed', 'Room ABCDEFGH was closed by its owner.'],
  ] as const)('hears %s, is in the lobby, and forgets the key', async (type, message) => {
    const { chat, rooms } = await inRoom();
    const heard: string[] = [];
    chat.on(type, (f) => heard.push(f.message));
    server.last.push({ type, roomId: 'ABCDEFGH', message });
    await tick();
    expect(heard).toEqual([message]);
    expect(chat.roomId).toBe('lobby');
    expect(rooms.at(-1)).toBe('lobby');
    expect(chat.inviteKey).toBeUndefined();
    server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(server.sent('joinroom').filter((f) => f.roomId === 'ABCDEFGH')).toHaveLength(1);
  });

  it('ignores removed and roomclosed frames of a room it is no longer in', async () => {
    const { chat } = await inRoom();
    const heard: string[] = [];
    chat.on('removed', (f) => heard.push(f.roomId));
    server.last.push({ type: 'removed', roomId: 'ZZZZZZZZ', message: 'x' });
    await tick();
    expect(heard).toEqual([]);
    expect(chat.roomId).toBe('ABCDEFGH');
  });

  it('lands in the lobby when its rejoin after a reconnect finds the room closed', async () => {
    const { chat, errors } = await inRoom();
    server.intercept = (frame) =>
      frame.action === 'joinroom'
        ? {
            type: 'error',
            code: 'ROOM_CLOSED',
            message: 'Room ABCDEFGH was closed by its owner.',
            action: 'joinroom',
          }
        : undefined;
    server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(chat.state).toBe('ready');
    expect(chat.roomId).toBe('lobby');
    expect(errors.map((e) => e.code)).toContain('ROOM_CLOSED');
  });
});
