import { type ChatClient, type Frame, isMessage, isPresence, presenceIn } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Presence and memberships are a person's (functions/rooms/rooms.ts personStays): a signed-in person who leaves a
 * room on one device while another of their devices is still in it is not shown leaving, and the room stays in
 * their "my rooms"; leaving on the last device is a leave, and takes the room off the list. Her devices are one entry
 * of the room's member list and one in its count. On the local cloud with
 * sign-in (AuthMode=oidc, the development issuer), whose users are the same person on every device.
 */
jest.setTimeout(240_000);

const { device, ask } = signedInCloud({ FrameRateLimit: '1000' });

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
  'tells no leave while another device of the person stays in a room the leaving one %s; the last device leaving is a leave',
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
    // A message from the device that stayed reaches carol after any presence the leave told (one room's events go
    // out in order): none was told, and the room is still on alice's list.
    await ask(laptop, { action: 'sendmessage', message: 'still here' });
    await carol.next(isMessage(roomId, 'still here'));
    expect(leavesIn(carol.since(mark), roomId, 'alice')).toBe(0);
    expect(await listed(laptop, roomId)).toBe(true);

    await ask(laptop, { action: 'leaveroom' });
    await carol.next(isPresence(roomId, 'leave', 'alice'));
    expect(await listed(laptop, roomId)).toBe(false);
  },
);
