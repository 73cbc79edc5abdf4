import type { LocalCloud } from '../../tools/local/cloud';
import { type ChatClient, type Frame, isPresence, presenceIn } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Presence told once a turn from each room's board, on the local cloud (docs/DECISIONS.md, "Presence collected per
 * room, told once a turn"): a join burst into a big room reaches each member as count updates, one frame per turn,
 * no names; the room's messages wait behind at most one turn's presence; a small room still hears who joined.
 */
jest.setTimeout(240_000);

const PATIENCE_MS = 90_000;
const MEMBERS = 5;
const JOINERS = 40;

/** The fan-out's pipe (FanoutQueue to FanoutStateMachine): while it is stopped, no room takes a turn. */
const fanoutPipe = (cloud: LocalCloud) =>
  cloud.template.pipes().find((p) => p.logicalId === 'FanoutPipe')?.name as string;

const stage = roomCloud(
  { settings: { FrameRateLimit: '100000' } },
  // A test that fails with the pipe stopped leaves the next one a running fan-out.
  {
    closeClients: 'file',
    patienceMs: PATIENCE_MS,
    reset: (cloud) => cloud.pipes.startPipe(fanoutPipe(cloud)),
  },
);

/** Resolves once `done()` holds, looked at on each frame `client` gets; fails after `timeoutMs`. */
function until(
  client: ChatClient,
  done: () => boolean,
  what: string,
  timeoutMs = PATIENCE_MS,
): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${client.username} waited ${timeoutMs} ms for ${what}`));
    }, timeoutMs);
    const stop = client.onFrame(() => {
      if (!done()) return;
      clearTimeout(timer);
      stop();
      resolve();
    });
  });
}

const isPresenceFrame = (roomId: string) => (f: Frame) =>
  f.roomId === roomId && (f.type === 'presence' || f.type === 'memberschanged');
const joinedIn = (frames: Frame[]) =>
  frames.reduce((n, f) => n + (typeof f.joined === 'number' ? f.joined : 0), 0);

it('40 joins into a room past 100 members reach each member as counts, one frame a turn, and its messages pass them', async () => {
  const { roomId, members } = await stage.settledRoom(Array.from({ length: MEMBERS }, (_, i) => `big${i}`));
  // The room has held more than 100 members (its key level, grow-only, says so): it hears counts, not names.
  await stage.setNumber('RoomsTable', { roomId }, 'keyLevel', 2);
  const joiners = await Promise.all(Array.from({ length: JOINERS }, (_, i) => stage.connect(`new${i}`)));
  const owner = members[0] as ChatClient;
  await stage.test.settle();

  const marks = members.map((m) => m.mark());
  // The test holds the room's turn: with the fan-out's pipe stopped (StopPipe), the wake the first join publishes
  // waits in the room's queue group as it would behind a turn in flight, so every later join lands on the board it
  // opened, however long the 40 take on a loaded machine.
  const pipe = fanoutPipe(stage.cloud);
  stage.cloud.pipes.stopPipe(pipe);
  // A join answered BUSY (40 at once meet on the room's item) is asked again, as the client library does.
  await Promise.all(joiners.map((j) => j.expectReply({ action: 'joinroom', roomId }, PATIENCE_MS)));
  // Every join is answered, so every change is on the board: a message now is queued behind the board's wake.
  const sentAt = members.map((m) => m.mark());
  await owner.expectReply({ action: 'sendmessage', message: 'still here' }, PATIENCE_MS);
  // Nothing was told while the turn was held.
  for (const [i, member] of members.entries())
    expect(member.since(marks[i] as number).filter(isPresenceFrame(roomId))).toEqual([]);
  stage.cloud.pipes.startPipe(pipe);
  for (const [i, member] of members.entries()) {
    const since = () => member.since(marks[i] as number);
    await until(member, () => member.messages(roomId).some((m) => m.text === 'still here'), 'the message');
    await until(
      member,
      () => joinedIn(since().filter(isPresenceFrame(roomId))) >= JOINERS,
      'every join counted',
    );
  }

  for (const [i, member] of members.entries()) {
    const frames = member.since(marks[i] as number).filter(isPresenceFrame(roomId));
    // No joiner is named: every frame is a count, and the counts add up to the joins.
    expect(frames.flatMap((f) => (f.type === 'presence' ? [f] : presenceIn(f)))).toEqual([]);
    expect(joinedIn(frames)).toBe(JOINERS);
    // One frame for the one turn, not one per joiner (nor one per batch of ten queue records).
    expect(frames).toHaveLength(1);
    // The message waited behind that turn's frame (the board's goes first among the room's frames), not every join.
    const after = member.since(sentAt[i] as number);
    const messageAt = after.findIndex((f) => JSON.stringify(f).includes('still here'));
    expect(after.slice(0, messageAt).filter(isPresenceFrame(roomId))).toHaveLength(1);
  }
});

it('a small room still hears "x joined" by name', async () => {
  const { roomId, members } = await stage.settledRoom(['s0', 's1', 's2']);
  const newcomer = await stage.connect('s3');
  await newcomer.expectReply({ action: 'joinroom', roomId }, PATIENCE_MS);
  for (const member of members) await member.next(isPresence(roomId, 'join', newcomer.username), PATIENCE_MS);
});
