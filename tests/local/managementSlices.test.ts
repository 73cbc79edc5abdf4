import { slices } from '../../tools/local/gateway/management';

/** Keeps this thread busy for `ms`, as verifying and answering a post does. */
function busy(ms: number): void {
  const start = performance.now();
  while (performance.now() - start < ms) {
    /* busy */
  }
}

it('runs management-API work a slice per turn, so a client frame waiting behind a fan-out is not held up', async () => {
  const turns = slices();
  const order: string[] = [];
  let allPosted: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    allPosted = resolve;
  });
  // A fan-out's posts arrive together: 40 of them, 1 ms of work each.
  for (let i = 0; i < 40; i++)
    turns.take(() => {
      busy(1);
      order.push('post');
      if (i === 39) allPosted();
    });
  // Then a client's frame (or a sandbox's DynamoDB answer) is ready on the same thread.
  setImmediate(() => order.push('frame'));
  // However slow the machine, the order is what counts: wait for the last post, not for a fixed time.
  await done;

  expect(order.filter((what) => what === 'post')).toHaveLength(40);
  // It ran after the first slice (about 4 ms of posts), not after all 40.
  expect(order.indexOf('frame')).toBeLessThan(10);
});
