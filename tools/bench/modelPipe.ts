/**
 * The model's FIFO queue and pipe (tools/bench/awsModel.ts): each room's message group, one batch in flight per
 * group; a poller's receive takes its group's messages first and fills the batch from other ready groups, within the
 * account's pipe executions at once; the batch goes to an execution (`execute`), and its deletion unlocks its groups.
 */
import type { ModelState, QueueMessage } from './modelSetup';
import { entry } from './simulation';

interface Group {
  messages: QueueMessage[];
  locked: boolean;
  pollPending: boolean;
}

export interface Pipe {
  /** A queue message become visible in its room's group. */
  visible(m: QueueMessage): void;
  /** The batch deleted after its execution: its groups unlock, and those with messages are polled again. */
  release(locked: number[]): void;
}

export function queueAndPipe(
  st: ModelState,
  execute: (batch: QueueMessage[], locked: number[]) => void,
): Pipe {
  const { L, draw, clock, batchMax } = st;
  const { pipeExecutions } = st.meters;
  const groups = new Map<number, Group>();
  /** Groups with messages and no batch in flight, in the order they became so (the pipe's pollers fill from them). */
  const ready = new Set<number>();

  const groupOf = (room: number) =>
    entry(groups, room, (): Group => ({ messages: [], locked: false, pollPending: false }));

  const visible = (m: QueueMessage) => {
    const g = groupOf(m.room);
    g.messages.push(m);
    if (!g.locked) {
      ready.add(m.room);
      schedulePoll(m.room, g);
    }
  };

  const schedulePoll = (room: number, g: Group) => {
    if (g.pollPending) return;
    g.pollPending = true;
    clock.at(clock.now + draw(L.pipesSqsPoll), () => poll(room));
  };

  /** A poller's receive: this group's messages first, the batch filled from other ready groups; all locked. */
  const poll = (room: number) => {
    const g = groupOf(room);
    g.pollPending = false;
    if (g.locked || g.messages.length === 0) return;
    // The account's pipe executions at once: past them the pipe receives nothing until one ends.
    if (!pipeExecutions.enter(clock.now)) {
      schedulePoll(room, g);
      return;
    }
    const batch: QueueMessage[] = [];
    const locked: number[] = [];
    const takeFrom = (id: number) => {
      const group = groupOf(id);
      const n = Math.min(batchMax - batch.length, group.messages.length);
      batch.push(...group.messages.splice(0, n));
      group.locked = true;
      ready.delete(id);
      locked.push(id);
    };
    takeFrom(room);
    for (const id of ready) {
      if (batch.length >= batchMax) break;
      takeFrom(id);
    }
    execute(batch, locked);
  };

  const release = (locked: number[]) => {
    for (const id of locked) {
      const g = groupOf(id);
      g.locked = false;
      if (g.messages.length > 0) {
        ready.add(id);
        schedulePoll(id, g);
      }
    }
  };

  return { visible, release };
}
