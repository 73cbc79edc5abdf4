/**
 * Values one feature's part in a send leaves for a later phase of another's, in that send (the send path's hooks:
 * functions/messages/sendHooks.ts). Here, not in messages/, because the features that share one (threads, mentions)
 * import no messages module: the function that hosts them imports theirs.
 */

/** The key of a value a hook leaves in a send's notes, typed: the hooks that share it both import it. */
export class SendNote<T> {
  declare readonly value?: T;
  constructor(readonly name: string) {}
}

export class SendNotes {
  readonly #values = new Map<SendNote<unknown>, unknown>();
  set<T>(note: SendNote<T>, value: T): void {
    this.#values.set(note, value);
  }
  get<T>(note: SendNote<T>): T | undefined {
    return this.#values.get(note) as T | undefined;
  }
}
