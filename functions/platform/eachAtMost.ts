/**
 * Runs `work` on every item, at most `limit` at once: calls on many items (posts, moves) without one call's wait each
 * in turn, nor a burst of all at once on a service's per-second quota.
 */
export async function eachAtMost<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
