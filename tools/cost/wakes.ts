// The fan-out's work as its machine does it (docs/DECISIONS.md, "The fan-out at AWS's scale"; functions/deliver/
// roomLog.ts, statemachines/fanout.asl.json): how many executions, wakes, awake spells and hand-offs carry a month's
// cycles. Pure arithmetic: no I/O, no clock.
//
// A take that finds the room asleep wakes it: one RoomWake, one queue record, one execution. The execution's first
// cycle is Prepare, each further one a ReadRoom invocation. A cycle's read ends the spell (the room is put to sleep)
// unless it finds a seq taken and not yet stored: then the machine reads the room again after the posts. With sends
// arriving at random at r a second and a take-to-store gap g, a read finds one with probability p = 1 - e^(-r·g).
// An execution runs at most n cycles, its turn (ROOM_TURN_MS, whose last read comes at or past the turn's end): n =
// ceil(turn ÷ cycle) + 1; a read that finds more at the turn's end hands the room on (the mark renewed, a wake
// published) and the room's next execution reads on. So cycles per execution are min(G, n), G geometric with
// success 1 - p: (1 - p^n) ÷ (1 - p) on average; a share p^n of executions hand on, the rest end a spell.

export interface SpellInput {
  /** Cycles a month over all rooms. */
  cycles: number;
  /** Sends per second in each room. */
  messagesPerSecond: number;
  /** A send's gap between its take and its store, ms. */
  takeToStoreMs: number;
  /** One cycle as it runs, ms (read, posts, SaveCursor; or the budget's spacing). */
  cycleMs: number;
  /** How long one execution reads a busy room before handing it on, ms. */
  turnMs: number;
}

export interface Spells {
  awakeShare: number;
  cyclesPerTurn: number;
  cyclesPerExecution: number;
  executions: number;
  wakes: number;
  spells: number;
  handOffs: number;
}

export function spells(input: SpellInput): Spells {
  const { cycles, messagesPerSecond: r } = input;
  const p = r > 0 ? 1 - Math.exp((-r * input.takeToStoreMs) / 1000) : 0;
  const n = input.cycleMs > 0 ? Math.ceil(input.turnMs / input.cycleMs) + 1 : Number.POSITIVE_INFINITY;
  const handOffShare = p ** n;
  const cyclesPerExecution = p >= 1 ? n : (1 - handOffShare) / (1 - p);
  const executions = cycles / cyclesPerExecution;
  return {
    awakeShare: p,
    cyclesPerTurn: n,
    cyclesPerExecution,
    executions,
    wakes: executions,
    spells: executions * (1 - handOffShare),
    handOffs: executions * handOffShare,
  };
}
