import { randomBytes } from 'node:crypto';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';
import { said, signedInCloud } from '../helpers/signedIn';

/**
 * One person across devices (functions/core/identity/otherDevices.ts): a `markread` that moves a signed-in user's read position
 * reaches that user's other live connections as a `read` frame without `requestId`, wherever they are, so a room read
 * on the laptop stops counting as unread on the phone. Another user's connection is told nothing, nor is a guest's
 * other connection (same resume token, same read position: it learns it from its next `myrooms`).
 */
jest.setTimeout(240_000);

const PATIENCE_MS = 90_000;

/** A pushed `read`: the frame of a read made elsewhere, not the answer to one of this connection's own requests. */
const pushedRead = (f: Frame) => f.type === 'read' && f.requestId === undefined;

describe('a signed-in user', () => {
  const { device, settle } = signedInCloud({ FrameRateLimit: '1000' });

  it("tells the user's other connections a read that moved, and nobody else", async () => {
    const phone = await device('alice');
    const bob = await device('bob');
    const laptop = await device('alice');
    const created = await phone.expectReply({ action: 'createroom' });
    const roomId = String(created.roomId);
    await bob.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
    const first = await said(bob, 'one');
    const second = await said(bob, 'two');
    await phone.next((f) => f.type === 'message' && f.seq === second.seq, PATIENCE_MS);

    // The laptop shows the lobby: the read reaches it anyway, naming the room.
    const bobMark = bob.mark();
    expect(await phone.expectReply({ action: 'markread', seq: first.seq })).toMatchObject({
      type: 'read',
      roomId,
      lastReadSeq: first.seq,
    });
    expect(await laptop.next(pushedRead, PATIENCE_MS, 'the phone’s read')).toEqual({
      type: 'read',
      roomId,
      lastReadSeq: first.seq,
    });

    // The same position again moves nothing: the laptop is told nothing more.
    await phone.expectReply({ action: 'markread', seq: first.seq });
    // Further on: told again, and only this once.
    await phone.expectReply({ action: 'markread', seq: second.seq });
    expect(await laptop.next(pushedRead, PATIENCE_MS, 'the second read')).toMatchObject({
      lastReadSeq: second.seq,
    });
    await settle();
    expect(laptop.frames.filter(pushedRead).map((f) => f.lastReadSeq)).toEqual([first.seq, second.seq]);
    // The reader is answered once per request (each answer echoing its requestId), never pushed its own read; Bob
    // hears of it as `seen` only.
    expect(phone.frames.filter((f) => f.type === 'read')).toHaveLength(3);
    expect(phone.frames.filter(pushedRead)).toEqual([]);
    expect(bob.since(bobMark).filter((f) => f.type === 'read')).toEqual([]);
  });
});

describe('a guest', () => {
  const stage = roomCloud(
    { settings: { FrameRateLimit: '1000' } },
    { closeClients: 'file', patienceMs: PATIENCE_MS },
  );

  it('tells its other connection nothing: only a signed-in user is one person across connections', async () => {
    // Two tabs of one app: the same resume token, so one read position (docs/PROTOCOL.md, "Read positions, your
    // rooms, direct messages").
    const resumeToken = randomBytes(16).toString('base64url');
    const tab = await ChatClient.connect(stage.cloud.wsUrl, 'gil', PATIENCE_MS, { resumeToken });
    const otherTab = await ChatClient.connect(stage.cloud.wsUrl, 'gil', PATIENCE_MS, { resumeToken });
    try {
      const created = await tab.expectReply({ action: 'createroom' });
      const roomId = String(created.roomId);
      await otherTab.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
      const ack = await said(tab, 'mine');
      await otherTab.next((f) => f.type === 'message' && f.seq === ack.seq, PATIENCE_MS);
      const mark = otherTab.mark();
      expect(await tab.expectReply({ action: 'markread', seq: ack.seq })).toMatchObject({
        lastReadSeq: ack.seq,
      });
      // The position is kept for both (their myrooms says so) ...
      const listed = await otherTab.expectReply({ action: 'myrooms' });
      expect((listed.rooms as Frame[]).find((r) => r.roomId === roomId)).toMatchObject({
        lastReadSeq: ack.seq,
      });
      // ... but nothing was pushed to the other tab.
      await stage.test.settle();
      expect(otherTab.since(mark).filter(pushedRead)).toEqual([]);
    } finally {
      await Promise.all([tab.close(), otherTab.close()]);
    }
  });
});
