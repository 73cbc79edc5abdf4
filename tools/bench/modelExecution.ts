/**
 * The model's executions (tools/bench/awsModel.ts): a batch from the pipe run as one Express execution. `queue`:
 * Prepare reads each room's cursor (and, with two messages or more, reads ahead), then each room's events are posted
 * and its cursor saved. `wake`: Prepare reads every room's log (`readRoom`, modelReader.ts), then Map Rooms runs each
 * room's cycles (post the run, save the cursor, read again while there is more) within its concurrency. The posts
 * themselves are modelPosting.ts's; the execution's end deletes the batch (`release`).
 */
import { Posting } from './modelPosting';
import type { ModelState, QueueMessage, Read, Room } from './modelSetup';

export type ReadRoom = (room: Room, turnEndsAt: number, done: (read: Read) => void) => void;

export function executions(
  st: ModelState,
  release: (locked: number[]) => void,
  readRoom: ReadRoom,
): (batch: QueueMessage[], locked: number[]) => void {
  const { run, s, L, draw, random, transition, clock, rooms, meters, wakeCounts } = st;
  const { design } = run;
  const { apiGateway, postBudget, putEvents, ruleInvocations, pipeExecutions, expressStarts } = meters;

  const posting = new Posting({
    design,
    s,
    draw,
    L,
    random,
    transition,
    keysAtOnce: st.keysAtOnce,
    chunksAtOnce: st.chunksAtOnce,
    apiGateway,
    postBudget,
    putEvents,
    ruleInvocations,
    expressStarts,
    resynced: (at, members) => st.extra?.resynced(at, members),
    lambdas: st.lambdas,
    refusals: st.refusals,
    outcomes: st.outcomes,
    measureFrom: st.measureFrom,
    sendEnd: st.sendEnd,
    tally: st.tally,
  });
  const postRoom = (room: Room, start: number, frames: ReturnType<Posting['framesOf']>) =>
    posting.postRoom(room, start, frames);
  const deliverRead = (at: number) => posting.deliverRead(at);
  const framesOf = (messages: Parameters<Posting['framesOf']>[0]) => posting.framesOf(messages);

  const saveCursor = (room: Room, at: number): number =>
    (st.write(`cursor#${room.id}`, at, 1) ?? at + draw(L.dynamodbItem)) + transition();

  // The pipe's StartSyncExecution of the fan-out machine, one a batch; throttled, the pipe retries it and the batch
  // waits, its groups locked (expressStarts.ts).
  const execute = (batch: QueueMessage[], locked: number[]) => {
    const startsAt = expressStarts.start('fanout', clock.now) as number;
    if (startsAt > clock.now) clock.at(startsAt, () => startBatch(batch, locked));
    else startBatch(batch, locked);
  };

  /** `queue`'s Prepare and rooms: one invoke for the batch, then each room in the first free of its slots. */
  const prepareQueue = (
    entered: number,
    byRoom: Map<number, QueueMessage[]>,
    roomDone: (at: number) => void,
  ) => {
    const roomIds = [...byRoom.keys()];
    // Prepare: one invoke for the batch; per room the cursor's GetItem and, with two messages or more, the
    // read-ahead Query.
    let prepared = deliverRead(entered);
    const reads = roomIds.map((id) => {
      const n = (byRoom.get(id) as QueueMessage[]).length;
      return draw(L.dynamodbItem) + (n >= 2 ? draw(L.dynamodbQuery) : 0);
    });
    prepared += Math.max(...reads);
    clock.at(prepared, () => {
      const slots: number[] = Array(st.roomsAtOnce).fill(clock.now + transition());
      for (const id of roomIds) {
        const slot = slots.indexOf(Math.min(...slots));
        const done = queueRoom(
          rooms[id] as Room,
          byRoom.get(id) as QueueMessage[],
          (slots[slot] as number) + transition(),
        );
        slots[slot] = done;
        roomDone(done);
      }
    });
  };

  const startBatch = (batch: QueueMessage[], locked: number[]) => {
    st.counts.executions++;
    const started = clock.now;
    const released = () => {
      pipeExecutions.leave();
      release(locked);
      run.onBatch?.({ rooms: locked, receivedAt: started, releasedAt: clock.now });
    };
    const byRoom = new Map<number, QueueMessage[]>();
    for (const m of batch) byRoom.set(m.room, [...(byRoom.get(m.room) ?? []), m]);
    const roomIds = [...byRoom.keys()];
    let pending = roomIds.length;
    // The execution ends when its slowest room does; the pipe then deletes the batch, unlocking its groups.
    const roomDone = (at: number) => {
      pending--;
      if (pending > 0) return;
      clock.at(Math.max(at, clock.now) + transition(), () => {
        st.executionMs.add(clock.now - started);
        clock.at(clock.now + draw(L.sqsCall), released);
      });
    };
    const entered = started + transition();
    if (design === 'queue') {
      prepareQueue(entered, byRoom, roomDone);
      return;
    }
    // Prepare: one invoke reads every room of the batch side by side (each within its turn from now) and returns when
    // the slowest read does; then Map Rooms runs each room's cycles on their own, past its concurrency a room starting
    // when another ends.
    clock.at(deliverRead(entered), () => {
      const turnEndsAt = clock.now + s.turnMs;
      const reads = new Map<number, Read>();
      for (const id of roomIds)
        readRoom(rooms[id] as Room, turnEndsAt, (read) => {
          reads.set(id, read);
          if (reads.size === roomIds.length) mapRooms(reads);
        });
    });
    const mapRooms = (reads: Map<number, Read>) => {
      const waiting = [...roomIds];
      const startRoom = (at: number) => {
        const id = waiting.shift();
        if (id === undefined) return;
        const room = rooms[id] as Room;
        let cycles = 1;
        clock.at(at + transition(), () =>
          cycle(
            room,
            reads.get(id) as Read,
            started,
            () => cycles++,
            (doneAt) => {
              run.onRoomRun?.({ room: id, startedAt: started, endedAt: doneAt, cycles });
              roomDone(doneAt);
              startRoom(doneAt);
            },
          ),
        );
      };
      const mapAt = clock.now + transition();
      for (let i = 0; i < st.roomsAtOnce; i++) startRoom(mapAt);
    };
  };

  /** `queue`: a room's events of the batch, those posted ahead dropped, the stored ones after `high` read ahead. */
  const queueRoom = (room: Room, events: QueueMessage[], start: number): number => {
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    const kept = seqs.filter((seq) => !room.skip.delete(seq));
    let high = Math.max(room.high, ...kept);
    const ahead: number[] = [];
    if (seqs.length >= 2) {
      let bytes = 0;
      for (let seq = high + 1; seq <= room.head && ahead.length < s.readAheadMessages; seq++) {
        const m = room.messages[seq];
        if (m?.storedAt === undefined) continue; // not stored (yet): its event, when it comes, is posted as ever
        bytes += s.messageBytes;
        if (bytes > s.readAheadBytes) break;
        ahead.push(seq);
        room.skip.add(seq);
        high = seq;
      }
    }
    room.high = high;
    const posted = [...kept, ...ahead].map((seq) => st.readFor(room, seq));
    if (posted.length === 0) return start + transition() + draw(L.dynamodbItem) + transition();
    const end = postRoom(room, start + transition(), framesOf(posted));
    st.features?.indexed(room, posted.length, end);
    return saveCursor(room, end + transition());
  };

  /**
   * `wake`: one room's iteration of Map Rooms from a read: RoomKeys' posts (none for an empty run), CursorToSave and
   * SaveCursor when the cursor moved, MoreNews, and while the read says more, ReadRoom (a Deliver `room` invocation,
   * within the turn from the execution's start) and the next cycle.
   */
  const cycle = (
    room: Room,
    read: Read,
    startedAt: number,
    readAgain: () => void,
    done: (at: number) => void,
  ) => {
    let t = clock.now;
    t = read.run.length > 0 ? postRoom(room, t, framesOf(read.run)) : t + transition();
    st.features?.indexed(room, read.run.length, t);
    t += transition();
    const moved = read.high !== room.high;
    if (moved) t = saveCursor(room, t);
    t += transition();
    clock.at(t, () => {
      if (moved) room.high = read.high;
      if (!read.more) {
        done(clock.now + transition());
        return;
      }
      wakeCounts.readAgain++;
      readAgain();
      clock.at(deliverRead(clock.now + transition()), () =>
        readRoom(room, startedAt + s.turnMs, (next) => cycle(room, next, startedAt, readAgain, done)),
      );
    });
  };

  return execute;
}
