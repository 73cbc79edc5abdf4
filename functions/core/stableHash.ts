/**
 * A stable 32-bit FNV-1a hash of a string: what spreads a room's connections and members over the shards of its index
 * keys and gates. Stable across processes and releases, since the shard it picks is written into keys.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
