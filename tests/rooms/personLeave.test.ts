import { type ChatClient, type Frame, isMessage, isPresence, presenceIn } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Presence is a person's (functions/rooms/rooms.ts personStays), and so is a leave (leaveroom.ts): a signed-in person
 * who leaves a room on one device while another of their devices still shows or follows it (the web chat follows
 * every listed room) takes it off "my rooms" at once, on every device: the other device is pushed `myroom` with
 * `left`. The room hears no leave until that device lets go too (its own leaveroom, which tells nothing more). Her
 * devices are one entry of the room's member list and one in its count. On the local cloud with sign-in
 * (AuthMode=oidc, the development issuer), whose users are the same person on every device.
 */
jest.setTimeout(240_000);

const { device, ask } = signedInCloud({ FrameRateLimit: '1000' });
const PATIENCE_MS = 90_000;

/** A `myroom` of `roomId` pushed by another device of the person (no `requestId`: not an answer). */
const toldOf = (roomId: string) => (f: Frame) =>
  f.type === 'myroom' && f.requestId === undefined && f.roomId === roomId;

/** The leaves of `username` in `roomId` among `frames`, alone or in a `memberschanged` frame. */
const leavesIn = (frames: Frame[], roomId: string, username: string) =>
  frames
    .flatMap((f) => (f.type === 'memberschanged' ? presenceIn(f) : [f]))
    .filter(isPresence(roomId, 'leave', username)).length;

const listed = async (client: ChatClient, roomId: string) =>
  ((await ask(client, { action: 'myrooms' })).rooms as { roomId: string }[]).some((r) => r.roomId === roomId);

/** A room of carol's with alice in it on two devices, each showing it or following it (`subscribe`). */
async function aliceTwice(showing: boolean) {
  const carol = await device('carol');
  const created = await ask(carol, { action: 'createroom' });
  const roomId = String(created.roomId);
  const key = created.inviteKey;
  const phone = await device('alice');
  if (showing) await ask(phone, { action: 'joinroom', roomId, key });
  else
    expect(await ask(phone, { action: 'subscribe', rooms: [{ roomId, key }] })).toMatchObject({
      refused: [],
    });
  const laptop = await device('alice');
  await ask(laptop, { action: 'joinroom', roomId, key });
  return { carol, roomId, phone, laptop };
}

it.each([
  ['shows', true],
  ['follows', false],
])(
  "takes the room off the person's rooms at once on a device that still %s it; the room hears one leave, when it lets go",
  async (_, showing) => {
    const { carol, roomId, phone, laptop } = await aliceTwice(showing);
    // Her two devices are one member: listed once, counted once.
    const who = await ask(carol, { action: 'who' });
    expect({ members: who.members, memberCount: who.memberCount }).toEqual({
      members: ['carol', 'alice'],
      memberCount: 2,
    });
    const mark = carol.mark();
    expect(await ask(phone, { action: 'leaveroom', ...(!showing && { roomId }) })).toMatchObject({
      type: 'left',
      roomId,
    });
    // The laptop, in the room, is told at once that the room left her rooms; it is off the list on every device.
    expect(await laptop.next(toldOf(roomId), PATIENCE_MS, 'the phone’s leave')).toEqual({
      type: 'myroom',
      roomId,
      left: true,
    });
    expect(await listed(laptop, roomId)).toBe(false);
    expect(await listed(phone, roomId)).toBe(false);
    // A message from the device still in it reaches carol after any presence the leave told (one room's events go
    // out in order): none was told, alice is still there.
    await ask(laptop, { action: 'sendmessage', message: 'still here' });
    await carol.next(isMessage(roomId, 'still here'));
    expect(leavesIn(carol.since(mark), roomId, 'alice')).toBe(0);

    // The laptop lets go, as a page told `left` does: now the room hears her leave, and the phone is told nothing
    // more (the membership was gone already). The phone's own answer comes after any frame posted before it.
    await ask(laptop, { action: 'leaveroom' });
    await carol.next(isPresence(roomId, 'leave', 'alice'));
    expect(await listed(phone, roomId)).toBe(false);
    expect(phone.frames.filter(toldOf(roomId))).toEqual([]);
  },
);
