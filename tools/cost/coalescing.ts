// Coalesced delivery, as arithmetic: how many @connections posts a message costs when a busy room's fan-out
// delivers everything that arrived since its previous cycle as one `batch` frame per member, a quiet room's message
// goes alone at once, and an account-wide posting budget caps the posts per second of all rooms together.
// Pure arithmetic: no I/O, no clock.

export interface CoalescingInput {
  /** Members of each room: one cycle posts once to each. */
  roomSize: number;
  /** Rooms carrying the traffic, all alike. */
  rooms: number;
  /** Messages per second arriving in each room, at random moments (a Poisson stream). */
  messagesPerSecond: number;
  /** How long one fan-out cycle of a room takes (take the pending messages, query the room, post), ms. */
  cycleMs: number;
  /** Posts per second the fan-out allows itself across the account (shared by all rooms). */
  postingBudgetPerSecond: number;
  /** Most messages one batch frame holds (its 32 KB frame limit); 1 = no coalescing possible. */
  maxBatch: number;
  /** How long a holder whose cycle found new messages waits before its next cycle (a busy room's window), ms. */
  windowMs?: number;
}

export interface Coalescing {
  /** Messages one post carries on average (1 = every message alone). */
  messagesPerPost: number;
  /** Posts one message costs over the whole room: roomSize ÷ messagesPerPost. */
  postsPerMessage: number;
  /** Posts per second of all rooms together. */
  postsPerSecond: number;
  /** Cycles per second of one room. */
  cyclesPerSecond: number;
  /** The cycle as it runs: the configured one, or longer when the posting budget spaces the rooms' cycles out. */
  effectiveCycleMs: number;
  /** True when the budget, not the cycle time, sets how much the rooms coalesce. */
  budgetBound: boolean;
  /** True when even full batches exceed the budget: messages would queue without end. */
  overBudget: boolean;
  /** Share of messages that arrive while their room's cycle runs (they wait for the next one). */
  waitingShare: number;
  /**
   * Share of cycles that a message's own execution starts in an idle room; the rest follow the cycle before them
   * (its release found them). A fresh cycle of a room of one chunk is delivered by its claim alone.
   */
  freshCycleShare: number;
  /** Wait coalescing adds to a message, on average over all messages, and at most (a cycle and a window), ms. */
  addedWaitMeanMs: number;
  addedWaitMaxMs: number;
}

/**
 * A room's fan-out runs one cycle at a time. A message that finds no cycle running starts one at once and goes
 * alone; messages arriving during a cycle of length T wait and go together in the next. With Poisson arrivals at
 * rate r, a cycle is followed by an idle spell (mean 1/r) only when nothing arrived during it (probability e^(-rT)),
 * so one cycle covers on average T + e^(-rT)/r seconds and carries r·T + e^(-rT) messages: 1 when r·T is small,
 * r·T when the room is busy. A cycle that found messages waiting (probability 1 - e^(-rT)) is followed by a window
 * W before the next, whose arrivals join it: (1 - e^(-rT))·r·W messages more per cycle, and W more per cycle in
 * time. A batch holds at most `maxBatch` messages.
 *
 * The posting budget: K rooms of N members posting N per cycle stay under B posts/s only while each room runs at
 * most B ÷ (K·N) cycles/s. Beyond that, the rooms share the budget equally and each cycle waits for its share,
 * carrying r·K·N ÷ B messages. When even full batches would exceed it, the model says so (`overBudget`).
 */
export function coalesce(input: CoalescingInput): Coalescing {
  const { roomSize: n, rooms, messagesPerSecond: r, postingBudgetPerSecond: budget } = input;
  const maxBatch = Math.max(1, Math.floor(input.maxBatch));
  const t = input.cycleMs / 1000;
  const window = (input.windowMs ?? 0) / 1000;
  if (!(r > 0) || !(rooms > 0)) {
    return {
      messagesPerPost: 1,
      postsPerMessage: n,
      postsPerSecond: 0,
      cyclesPerSecond: 0,
      effectiveCycleMs: input.cycleMs,
      budgetBound: false,
      overBudget: false,
      waitingShare: 0,
      freshCycleShare: 1,
      addedWaitMeanMs: 0,
      addedWaitMaxMs: 0,
    };
  }
  const idleAfterCycle = Math.exp(-r * t);
  // Busy time per cycle: the cycle itself and, when it found messages waiting, the window before the next.
  const busy = t + (1 - idleAfterCycle) * window;
  const natural = Math.min(maxBatch, r * busy + idleAfterCycle);
  const naturalPostsPerSecond = (rooms * n * r) / natural;
  const budgetBound = naturalPostsPerSecond > budget;
  const forced = (r * rooms * n) / budget;
  const messagesPerPost = budgetBound ? Math.min(maxBatch, forced) : natural;
  const overBudget = budgetBound && forced > maxBatch;
  const cyclesPerSecond = r / messagesPerPost;
  const effectiveCycle = budgetBound ? 1 / cyclesPerSecond : t;
  // A message arrives during a running cycle or window with the share of time they take (Poisson arrivals see time
  // averages); it then waits for the rest of that cycle (half of it on average) and the window after it, or for the
  // rest of the window.
  const span = busy + idleAfterCycle / r;
  const waitingShare = budgetBound ? 1 : busy / span;
  const meanWait = budgetBound
    ? effectiveCycle / 2
    : (t * (t / 2 + window) + (1 - idleAfterCycle) * window * (window / 2)) / span;
  return {
    messagesPerPost,
    postsPerMessage: n / messagesPerPost,
    postsPerSecond: (rooms * n * r) / messagesPerPost,
    cyclesPerSecond,
    effectiveCycleMs: effectiveCycle * 1000,
    budgetBound,
    overBudget,
    waitingShare,
    // A cycle is followed by an idle spell, so the next one starts fresh, when nothing arrived during it.
    freshCycleShare: budgetBound ? 0 : idleAfterCycle,
    addedWaitMeanMs: meanWait * 1000,
    addedWaitMaxMs: (budgetBound ? effectiveCycle : t + window) * 1000,
  };
}

/** Messages of `frameBytes` each that fit one batch frame of at most `limitBytes` (wrapper and commas included). */
export function batchCapacity(frameBytes: number, wrapperBytes: number, limitBytes: number): number {
  return Math.max(1, Math.floor((limitBytes - wrapperBytes + 1) / (frameBytes + 1)));
}
