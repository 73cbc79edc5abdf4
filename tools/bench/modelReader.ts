/**
 * The model's reader of a room's log, `wake` (tools/bench/awsModel.ts; functions/deliver/roomLog.ts readRoom): the
 * stored run after the cursor, never past a missing seq (fenced once missing `holeMs`); caught up, the room put to
 * sleep; past the turn, the room handed on (`publishWake`, the send path's RoomWake).
 */
import type { ModelState, Read, Room } from './modelSetup';

export type PublishWake = (room: Room, seq: number, kind: 'wake' | 'handOff', then?: () => void) => void;

export function roomReader(
  st: ModelState,
  publishWake: PublishWake,
): (room: Room, turnEndsAt: number, done: (read: Read) => void) => void {
  const { s, L, draw, clock, wakeCounts } = st;

  /** Whether a seq is in the room's log: its message stored, or a gap marker. */
  const inLog = (room: Room, seq: number) =>
    room.messages[seq]?.storedAt !== undefined || room.fenced.has(seq);

  /**
   * The cursor's GetItem, then passes of the log's Query and the room's seq side by side: the stored run from the
   * cursor, never past a missing seq (fenced once missing `holeMs`); caught up, the room put to sleep (read on if a
   * take beat the write); a seq being stored: post what came before it, or with nothing to post poll every `pollMs`;
   * past the turn, the room handed on.
   */
  const readRoom = (room: Room, turnEndsAt: number, done: (read: Read) => void) => {
    const missingSince = new Map<number, number>();
    const run: number[] = [];
    let high = room.high;
    let bytes = 0;
    let more = false;
    const finish = () => {
      const give = () =>
        done({
          run: run.filter((seq) => !room.fenced.has(seq)).map((seq) => st.readFor(room, seq)),
          high,
          more,
        });
      if (more && clock.now >= turnEndsAt) {
        // The turn is over with more to read: the room's next execution reads on.
        more = false;
        handOff(room, high, give);
        return;
      }
      give();
    };
    const pass = () => {
      const limit = s.cycleItems - run.length;
      if (limit <= 0) {
        more = true;
        finish();
        return;
      }
      clock.at(clock.now + Math.max(draw(L.dynamodbQuery), draw(L.dynamodbItem)), () => {
        const now = clock.now;
        const head = room.head;
        const entries = new Set<number>();
        let lastStored = high;
        for (let seq = high + 1; seq <= head && entries.size < limit; seq++)
          if (inLog(room, seq)) {
            entries.add(seq);
            lastStored = seq;
          }
        // A full page may have more after it: the walk stops at its end.
        const full = entries.size >= limit;
        const top = full ? lastStored : Math.max(lastStored, head);
        let pending = false;
        const walk = (from: number) => {
          for (let seq = from; seq <= top; seq++) {
            if (!entries.has(seq)) {
              const since = missingSince.get(seq) ?? now;
              missingSince.set(seq, since);
              if (now - since < s.holeMs) {
                pending = true;
                break;
              }
              // Fenced: a gap marker put if the seq is still free; a message stored at the last moment is read instead.
              const fencedAt = st.write(`messages#${room.id}`, clock.now, 1);
              if (fencedAt === undefined) {
                pending = true;
                break;
              }
              clock.at(fencedAt, () => {
                if (room.messages[seq]?.storedAt === undefined) {
                  room.fenced.add(seq);
                  wakeCounts.fenced++;
                }
                run.push(seq);
                high = seq;
                walk(seq + 1);
              });
              return;
            }
            const size = room.fenced.has(seq) ? 0 : s.messageBytes;
            if (bytes + size > s.cycleBytes && run.length > 0) {
              more = true;
              break;
            }
            run.push(seq);
            bytes += size;
            high = seq;
          }
          after(now, head, lastStored, full, pending);
        };
        walk(high + 1);
      });
    };
    const after = (now: number, head: number, lastStored: number, full: boolean, pending: boolean) => {
      if (more || (full && high >= lastStored)) {
        more = true;
        finish();
        return;
      }
      if (!pending && high >= head) {
        // Every seq taken is in this read: `REMOVE awake` if the room's seq is still `high`, else read on at once.
        const at = st.write(st.roomKey(room), clock.now, 1);
        clock.at(at ?? clock.now, () => {
          if (at !== undefined && room.head === high) {
            room.awakeSince = undefined;
            wakeCounts.sleeps++;
            st.mark(room, 'sleep');
            finish();
            return;
          }
          wakeCounts.sleepsBeaten++;
          pass();
        });
        return;
      }
      // A seq is being stored: post what came before it now, and read again after the posts.
      if (run.length > 0) {
        more = true;
        finish();
        return;
      }
      if (now >= turnEndsAt) {
        handOff(room, high, finish);
        return;
      }
      wakeCounts.polls++;
      clock.at(clock.now + s.pollMs, pass);
    };
    clock.at(clock.now + draw(L.dynamodbItem), pass);
  };

  /** The room handed on: its mark renewed (`SET awake = :now`), then a RoomWake published for its next execution. */
  const handOff = (room: Room, high: number, then: () => void) => {
    wakeCounts.handOffs++;
    const at = st.write(st.roomKey(room), clock.now, 1) ?? clock.now + draw(L.dynamodbItem);
    clock.at(at, () => {
      room.awakeSince = clock.now;
      publishWake(room, high + 1, 'handOff', then);
    });
  };

  return readRoom;
}
