import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * One person across devices, beyond read positions (docs/DECISIONS.md, "One person, many devices"): a room's notices
 * (`setnotices`, functions/reading/notices.ts) and the person's profile (`setprofile`) reach that person's other
 * live connections at once, as the frame of the reply without `requestId`; `myrooms` lists the notices on every
 * device; nobody else is told; bad input is answered with an error frame that says what is wrong. ("Your rooms"' one
 * order: tests/client/roomsOrder.test.ts.)
 */
jest.setTimeout(240_000);

const PATIENCE_MS = 90_000;

/**
 * A frame of type `type` without `requestId`: pushed by a change made elsewhere (this test client's requests carry a
 * `requestId`, which their answers echo).
 */
const pushed = (type: string) => (f: Frame) => f.type === type && f.requestId === undefined;

const listed = async (device: { expectReply(f: Record<string, unknown>): Promise<Frame> }) =>
  (await device.expectReply({ action: 'myrooms' })).rooms as Frame[];

describe('a signed-in person on two devices', () => {
  const { device, settle, roomOf } = signedInCloud({ FrameRateLimit: '1000' });

  it("tells the person's other devices a room's notices, lists them everywhere, and tells nobody else", async () => {
    const {
      roomId,
      devices: [phone, bob],
    } = await roomOf('alice', 'bob');
    const laptop = await device('alice');
    const bobMark = bob.mark();

    expect(await phone.expectReply({ action: 'setnotices', roomId, notices: 'mute' })).toMatchObject({
      type: 'notices',
      roomId,
      notices: 'mute',
    });
    expect(await laptop.next(pushed('notices'), PATIENCE_MS, 'the phone’s mute')).toEqual({
      type: 'notices',
      roomId,
      notices: 'mute',
    });
    // Kept by the server: the laptop's list says so, as a fresh device's would.
    expect((await listed(laptop)).find((r) => r.roomId === roomId)).toMatchObject({ notices: 'mute' });

    // Back to the default: told again, and listed as nothing.
    await laptop.expectReply({ action: 'setnotices', roomId, notices: 'all' });
    const unmuted = (f: Frame) => pushed('notices')(f) && f.notices === 'all';
    expect(await phone.next(unmuted, PATIENCE_MS, 'the laptop’s unmute')).toMatchObject({
      notices: 'all',
    });
    expect((await listed(phone)).find((r) => r.roomId === roomId)?.notices).toBeUndefined();

    await settle();
    // Each device was told once of the change made on the other, and not of its own; Bob, in the room, of none.
    expect(laptop.frames.filter(pushed('notices')).map((f) => f.notices)).toEqual(['mute']);
    expect(phone.frames.filter(pushed('notices')).map((f) => f.notices)).toEqual(['all']);
    expect(bob.since(bobMark).filter((f) => f.type === 'notices')).toEqual([]);
    // Bob's own choice is his: Alice's stays the default.
    await bob.expectReply({ action: 'setnotices', roomId, notices: 'mentions' });
    expect((await listed(bob)).find((r) => r.roomId === roomId)).toMatchObject({ notices: 'mentions' });
    expect((await listed(phone)).find((r) => r.roomId === roomId)?.notices).toBeUndefined();
  });

  it('refuses bad notices with an error frame saying what is wrong, and a room that is not yours', async () => {
    const { roomId, devices } = await roomOf('carol');
    const [carol] = devices;
    const dave = await device('dave');
    for (const [frame, wording] of [
      [{ roomId, notices: 'loud' }, /"notices" must be one of "all", "mentions", "mute"/],
      [{ roomId }, /"notices" must be one of/],
      [{ notices: 'mute' }, /"roomId" must be the code of one of your rooms/],
      [{ roomId: 'not a room', notices: 'mute' }, /"roomId" must be the code/],
      [{ roomId: 'lobby', notices: 'mute' }, /"roomId" must be the code/],
    ] as const)
      expect(await carol.ask({ action: 'setnotices', ...frame })).toMatchObject({
        type: 'error',
        code: 'BAD_REQUEST',
        message: expect.stringMatching(wording),
      });
    // Dave never joined Carol's room: refused, and no membership is made of it.
    expect(await dave.ask({ action: 'setnotices', roomId, notices: 'mute' })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
      message: expect.stringMatching(new RegExp(`Room ${roomId} is not one of your rooms`)),
    });
    expect(await listed(dave)).toEqual([]);
    // Carol, after all that, still has hers.
    expect((await listed(carol)).map((r) => r.roomId)).toEqual([roomId]);
  });

  it("tells the person's other devices a profile change, wherever they are, and nobody else that frame", async () => {
    const {
      roomId,
      devices: [laptop, bob],
    } = await roomOf('erin', 'bob-profile');
    // The phone shows the lobby: in no room Erin shares.
    const phone = await device('erin');
    const bobMark = bob.mark();
    const reply = await laptop.expectReply({
      action: 'setprofile',
      displayName: 'Erin on the go',
      status: 'in a meeting',
    });
    expect(reply).toMatchObject({ type: 'profile', displayName: 'Erin on the go', status: 'in a meeting' });
    const told = await phone.next(pushed('profile'), PATIENCE_MS, 'the laptop’s profile');
    expect(told).toEqual({ ...reply, requestId: undefined });
    expect(told.roomId).toBeUndefined();
    // Bob hears of it as a member of their room (with `roomId`), never as Erin's own frame.
    const inRoom = await bob.next(pushed('profile'), PATIENCE_MS, 'the room’s profile');
    expect(inRoom).toMatchObject({ roomId, displayName: 'Erin on the go' });
    await settle();
    expect(bob.since(bobMark).filter((f) => f.type === 'profile' && f.roomId === undefined)).toEqual([]);
    expect(phone.frames.filter(pushed('profile'))).toHaveLength(1);
  });
});
