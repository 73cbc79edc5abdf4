import type { MessageFrame } from '#protocol';
import { type Handed, HISTORY_PACE_MS, RoomMessages, Sequencer, SKIPPED_KEPT } from '../../client';
import { HOLE_WAIT_MS } from '../../client/session';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';
import { messageFrame } from './messageFrame';

/**
 * A message stored after later ones (a DynamoDB retry, a sender that stored late, a fan-out execution received again)
 * reaches a member after the client skipped its hole: the client hands it over then, once, marked `late`, whether it
 * comes live or in a later history read, and a copy of it is still dropped.
 */
const fake = fakeServerPerTest();

const ROOM = 'ABCDEF';

/** A client in ROOM with four messages stored, the third held back from history and from the fan-out. */
async function holeAtThree() {
  fake.server.rooms.set(ROOM, []);
  const chat = fake.client();
  const shown: Array<Handed<MessageFrame>> = [];
  const inRoom: Array<Handed<MessageFrame>> = [];
  chat.on('message', (m) => shown.push(m));
  const store = new RoomMessages(chat);
  await tick();
  const joining = chat.join(ROOM);
  await tick();
  await joining;
  chat.rooms.get(ROOM).on('message', (m) => inRoom.push(m));
  fake.server.fanOut = false;
  const stored = ['one', 'two', 'three', 'four'].map((text) => fake.server.store(ROOM, text));
  const list = fake.server.rooms.get(ROOM) as MessageFrame[];
  const third = list.splice(2, 1)[0] as MessageFrame; // seq 3 taken, not stored yet
  for (const i of [0, 1, 3]) fake.server.last.push(stored[i] as MessageFrame);
  await tick();
  // The hole waits, history is read once more, then it is skipped and 4 follows 2.
  expect(shown.map((m) => m.seq)).toEqual([1, 2]);
  await jest.advanceTimersByTimeAsync(HOLE_WAIT_MS + 100);
  expect(shown.map((m) => m.seq)).toEqual([1, 2, 4]);
  /** Seq 3 stored at last, where the server keeps it. */
  const storeLate = () => list.splice(2, 0, third);
  return { chat, shown, inRoom, store, third, storeLate };
}

/** Seqs 1, 2 and 4 as they came, then 3 marked late: what a member is handed once the hole at 3 is filled late. */
const THREE_LATE = [
  [1, undefined],
  [2, undefined],
  [4, undefined],
  [3, true],
];

it('hands over a message that arrives live after its hole was skipped, once, marked late', async () => {
  const { chat, shown, inRoom, store, third, storeLate } = await holeAtThree();
  storeLate();
  fake.server.last.push(third); // posted by itself once stored
  await tick();
  expect(shown.map((m) => [m.seq, m.late])).toEqual(THREE_LATE);
  expect(shown.at(-1)?.text).toBe('three');
  // The room's object hands it over the same way, and an app's store keeps the room in seq order.
  expect(inRoom.map((m) => [m.seq, m.late])).toEqual(THREE_LATE);
  expect(store.list().map((m) => m.text)).toEqual(['one', 'two', 'three', 'four']);
  expect(chat.lastSeq).toBe(4);

  // Copies of it and of its neighbours, live or in a batch, are dropped: each seq once.
  fake.server.last.push(third);
  fake.server.last.push({
    type: 'batch',
    roomId: ROOM,
    messages: [third, { ...third, seq: 4, text: 'four' }],
  });
  await tick();
  expect(shown.map((m) => m.seq)).toEqual([1, 2, 4, 3]);
  expect(inRoom.map((m) => m.seq)).toEqual([1, 2, 4, 3]);

  // Only the client says what is late: a frame that claims it is handed over as what it is, the next seq.
  const fifth = fake.server.store(ROOM, 'five');
  fake.server.last.push({ ...fifth, late: true });
  await tick();
  expect(shown.map((m) => [m.seq, m.late]).at(-1)).toEqual([5, undefined]);
  expect(inRoom.map((m) => [m.seq, m.late]).at(-1)).toEqual([5, undefined]);
  expect('late' in (shown.at(-1) as object)).toBe(false);
});

it('hands over a late message a later history read brings (the rejoin after a reconnect), once', async () => {
  const { chat, shown } = await holeAtThree();
  fake.server.last.drop();
  // While it is away: 3 stored at last, and 5 sent.
  const list = fake.server.rooms.get(ROOM) as MessageFrame[];
  list.splice(2, 0, { ...(list[1] as MessageFrame), seq: 3, messageId: 'late-3', text: 'three' });
  fake.server.store(ROOM, 'five');
  await jest.advanceTimersByTimeAsync(1_000);
  expect(chat.state).toBe('ready');
  // The rejoin's `joined.history` holds 3 (late) and the message sent meanwhile (5, in order).
  expect(shown.map((m) => [m.seq, m.late])).toEqual([
    [1, undefined],
    [2, undefined],
    [4, undefined],
    [3, true],
    [5, undefined],
  ]);
  // Another reconnect brings the same history again: nothing is handed over twice.
  fake.server.last.drop();
  await jest.advanceTimersByTimeAsync(1_000);
  expect(chat.state).toBe('ready');
  expect(shown.map((m) => m.seq)).toEqual([1, 2, 4, 3, 5]);
});

describe('Sequencer', () => {
  const msg = (seq: number) => messageFrame(ROOM, seq);

  function sequencer(baseline = 0) {
    const handed: Array<[number, boolean]> = [];
    const s = new Sequencer((m, late) => handed.push([m.seq, late]));
    s.setBaseline(baseline);
    return { s, handed };
  }

  it('takes a late seq only from a skipped hole: not one below the baseline, not one delivered', () => {
    const { s, handed } = sequencer(10);
    s.accept(msg(11));
    s.accept(msg(13));
    s.skipHole();
    expect(s.accept(msg(10))).toBe(false); // before this client's start in the room: history, not news
    expect(s.accept(msg(11))).toBe(false);
    expect(s.accept(msg(12))).toBe(true);
    expect(s.accept(msg(12))).toBe(false);
    expect(handed).toEqual([
      [11, false],
      [13, false],
      [12, true],
    ]);
    expect(s.lastSeq).toBe(13);
  });

  it('remembers at most SKIPPED_KEPT skipped seqs, the newest: a long hole by its top, old holes forgotten', () => {
    const { s, handed } = sequencer(0);
    const long = 3 * SKIPPED_KEPT;
    s.accept(msg(long + 1));
    s.skipHole();
    expect(s.accept(msg(long))).toBe(true); // the top of the hole
    expect(s.accept(msg(long - SKIPPED_KEPT + 1))).toBe(true); // the lowest of it kept
    expect(s.accept(msg(long - SKIPPED_KEPT))).toBe(false); // below what is kept
    expect(s.lowestSkipped).toBe(long - SKIPPED_KEPT + 2);

    // SKIPPED_KEPT holes of one seq each, later: the long hole's seqs give way to them.
    let next = long + 2;
    for (let i = 0; i < SKIPPED_KEPT; i++) {
      s.accept(msg(next + 1));
      s.skipHole();
      next += 2;
    }
    expect(s.accept(msg(long - 1))).toBe(false);
    expect(s.accept(msg(long + 2))).toBe(true); // the first one-seq hole
    expect(s.accept(msg(next - 2))).toBe(true); // the last
    expect(handed.filter(([, late]) => late)).toHaveLength(4);
  });

  it('forgets skipped seqs with the room (reset)', () => {
    const { s, handed } = sequencer(0);
    s.accept(msg(2));
    s.skipHole();
    s.reset();
    s.setBaseline(5);
    expect(s.accept(msg(1))).toBe(false);
    expect(handed).toEqual([[2, false]]);
  });
});

/**
 * A client that joined AAAAAAAA then BBBBBBBB (so A is followed, not on screen), with the server's fan-out off: the
 * seq and late mark of each message A hands on, in order.
 */
async function followingTwoRooms(): Promise<Array<[number, boolean | undefined]>> {
  fake.server.rooms.set('AAAAAAAA', []);
  fake.server.rooms.set('BBBBBBBB', []);
  const chat = fake.client();
  await tick();
  for (const room of ['AAAAAAAA', 'BBBBBBBB']) {
    const joining = chat.join(room);
    await tick();
    await joining;
  }
  const inA: Array<[number, boolean | undefined]> = [];
  chat.rooms.get('AAAAAAAA').on('message', (m) => inA.push([m.seq, m.late]));
  fake.server.fanOut = false;
  return inA;
}

it("marks late a followed room's message that arrives after a later one of that room (rooms not on screen)", async () => {
  const inA = await followingTwoRooms();
  const [one, two, three] = ['one', 'two', 'three'].map((text) => fake.server.store('AAAAAAAA', text));
  for (const m of [one, three, two, three]) fake.server.last.push(m as MessageFrame);
  await tick();
  expect(inA).toEqual([
    [1, undefined],
    [3, undefined],
    [2, true],
  ]);
});

it('reads back to a skipped seq when a resync names seqs below the last delivered (the late post did not reach it)', async () => {
  const { shown, storeLate } = await holeAtThree();
  storeLate();
  // The fan-out could not post 3 to this connection: the next post that succeeds is preceded by a resync after 2.
  fake.server.last.push({ type: 'resync', roomId: ROOM, afterSeq: 2 });
  await tick();
  expect(shown.map((m) => [m.seq, m.late])).toEqual(THREE_LATE);
  expect(fake.server.sent('history').at(-1)).toMatchObject({ afterSeq: 2 });
  // A resync with nothing skipped above it reads from the last seq delivered, as always.
  fake.server.last.push({ type: 'resync', roomId: ROOM, afterSeq: 2 });
  await tick();
  expect(fake.server.sent('history').at(-1)).toMatchObject({ afterSeq: 4 });
  expect(shown.map((m) => m.seq)).toEqual([1, 2, 4, 3]);
});

it("reads a followed room's history from a resync's afterSeq when that is below its last seq (rooms not on screen)", async () => {
  const inA = await followingTwoRooms();
  const [one, , three] = ['one', 'two', 'three'].map((text) => fake.server.store('AAAAAAAA', text));
  fake.server.last.push(one as MessageFrame);
  fake.server.last.push(three as MessageFrame); // 2 stored late and not posted to this connection
  fake.server.last.push({ type: 'resync', roomId: 'AAAAAAAA', afterSeq: 1 });
  await jest.advanceTimersByTimeAsync(HISTORY_PACE_MS + 100);
  expect(fake.server.sent('history').at(-1)).toMatchObject({ roomId: 'AAAAAAAA', afterSeq: 1 });
  expect(inA).toEqual([
    [1, undefined],
    [3, undefined],
    [2, true],
  ]);
});
