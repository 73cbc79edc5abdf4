import { TooManyConnections } from '#core/errors';
import { claimPlace, type SourceCapDeps, type SourcePlaceStore } from '#core/limits/sourceCap';

/**
 * The per-source connection cap with an in-memory store: what a refused handshake costs (the management API's
 * GetConnection calls), whatever the source holds, and how places whose $disconnect was lost come back.
 */

function world(cap: number) {
  const items = new Map<string, Record<string, number>>();
  const open = new Set<string>();
  const probes: string[] = [];
  let nowMs = Date.parse('2026-11-22T10:00:00Z');
  const store: SourcePlaceStore = {
    claim: async (source, id, at, limit) => {
      const places = items.get(source) ?? {};
      if (Object.keys(places).length >= limit) return { claimed: false, places: { ...places } };
      items.set(source, { ...places, [id]: at });
      return { claimed: true };
    },
    touch: async (source, id, from, to) => {
      const places = items.get(source);
      if (places?.[id] === from) places[id] = to;
    },
    release: async (source, ids) => {
      const places = items.get(source);
      for (const id of ids) if (places) delete places[id];
    },
  };
  const deps: SourceCapDeps = {
    store,
    cap,
    isOpen: async (id) => {
      probes.push(id);
      return open.has(id);
    },
    now: () => new Date(nowMs),
  };
  let n = 0;
  /** A handshake from 203.0.113.7: 'open' (and its connection lives on) or 'refused'. */
  const handshake = async () => {
    const id = `c${++n}`;
    try {
      await claimPlace(deps, '203.0.113.7', id);
      open.add(id);
      return 'open';
    } catch (error) {
      if (error instanceof TooManyConnections) return 'refused';
      throw error;
    }
  };
  return {
    handshake,
    probes,
    open,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

it('asks about at most one place per refused handshake, and about each live place at most once per 30 s', async () => {
  const w = world(50);
  for (let i = 0; i < 50; i++) expect(await w.handshake()).toBe('open');
  w.advance(31_000);
  for (let i = 0; i < 260; i++) {
    const before = w.probes.length;
    expect(await w.handshake()).toBe('refused');
    expect(w.probes.length - before).toBeLessThanOrEqual(1);
  }
  // 260 refusals asked about each of the 50 live places once: the other 210 found none unchecked for 30 s.
  expect(w.probes.length).toBe(50);
  expect(new Set(w.probes).size).toBe(50);
  w.advance(31_000);
  await w.handshake();
  expect(w.probes.length).toBe(51);
});

it('gives back the place of a connection whose $disconnect was lost, found by asking one place at a time', async () => {
  const w = world(5);
  for (let i = 0; i < 5; i++) await w.handshake();
  // c4 closed without a $disconnect: its place is still held.
  w.open.delete('c4');
  // Within the 29 s of a handshake, nothing is asked: its place may be a handshake still under way.
  expect(await w.handshake()).toBe('refused');
  expect(w.probes).toEqual([]);
  w.advance(31_000);
  const outcomes: string[] = [];
  for (let i = 0; i < 5; i++) outcomes.push(await w.handshake());
  // The places are asked about oldest first: c1, c2, c3 are open, c4 is gone and its place goes to the handshake
  // that asked, and the next refusal asks about c5.
  expect(w.probes).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  expect(outcomes).toEqual(['refused', 'refused', 'refused', 'open', 'refused']);
});

it('gives back a place older than a connection can live without asking', async () => {
  const w = world(2);
  await w.handshake();
  await w.handshake();
  w.open.clear();
  w.advance(2 * 3600 * 1000 + 1);
  expect(await w.handshake()).toBe('open');
  expect(w.probes).toEqual([]);
});
