// The states of an Amazon States Language definition, for the local cloud's rewrites of the definitions it runs
// (payloadLimit.ts, testClock.ts): state names are unique across a whole machine, nested ones included.

interface Nesting {
  ItemProcessor?: { States?: Record<string, unknown> };
  Iterator?: { States?: Record<string, unknown> };
  Branches?: { States?: Record<string, unknown> }[];
}

/** Every state of the machine, however deeply nested in Map or Parallel states, by name (the objects themselves). */
export function statesByName<S extends object>(machine: object): Map<string, S> {
  const found = new Map<string, S>();
  const visit = (m: { States?: Record<string, unknown> } | undefined) => {
    for (const [name, state] of Object.entries(m?.States ?? {})) {
      found.set(name, state as S);
      const nesting = state as Nesting;
      visit(nesting.ItemProcessor ?? nesting.Iterator);
      for (const branch of nesting.Branches ?? []) visit(branch);
    }
  };
  visit(machine as { States?: Record<string, unknown> });
  return found;
}
