import { PRIORITY_CALM_MS, PRIORITY_CHECK_MS, yieldWhileClientsWait } from '../../local/stepFunctionsHost';

/**
 * The Step Functions thread yields the CPU while client requests wait for a Lambda environment, and takes its share
 * back once they have stopped waiting for a while: under overload sends go first, at sustained load the fan-out is
 * not starved.
 */
afterEach(() => {
  jest.useRealTimers();
});

function watch() {
  jest.useFakeTimers();
  let backlog = 0;
  const yields: boolean[] = [];
  const stop = yieldWhileClientsWait(
    () => backlog,
    { setYielding: (yielding) => yields.push(yielding) },
    3,
    () => Date.now(),
  );
  return {
    yields,
    stop,
    setBacklog: (value: number) => {
      backlog = value;
    },
  };
}

it('yields while requests wait, and returns to normal priority only after a calm second', () => {
  const { yields, stop, setBacklog } = watch();
  jest.advanceTimersByTime(5 * PRIORITY_CHECK_MS);
  expect(yields).toEqual([]);

  // Fewer waiting than a round of environments: no yielding.
  setBacklog(2);
  jest.advanceTimersByTime(5 * PRIORITY_CHECK_MS);
  expect(yields).toEqual([]);

  setBacklog(3);
  jest.advanceTimersByTime(PRIORITY_CHECK_MS);
  expect(yields).toEqual([true]);
  jest.advanceTimersByTime(5 * PRIORITY_CHECK_MS);
  expect(yields).toEqual([true]);

  // A short lull is not calm yet: the thread keeps yielding.
  setBacklog(0);
  jest.advanceTimersByTime(PRIORITY_CALM_MS - 2 * PRIORITY_CHECK_MS);
  expect(yields).toEqual([true]);
  setBacklog(4);
  jest.advanceTimersByTime(PRIORITY_CHECK_MS);
  setBacklog(0);
  jest.advanceTimersByTime(PRIORITY_CALM_MS - PRIORITY_CHECK_MS);
  expect(yields).toEqual([true]);

  jest.advanceTimersByTime(2 * PRIORITY_CHECK_MS);
  expect(yields).toEqual([true, false]);
  stop();
});

it('stops watching when told to', () => {
  const { yields, stop, setBacklog } = watch();
  stop();
  setBacklog(5);
  jest.advanceTimersByTime(10 * PRIORITY_CHECK_MS);
  expect(yields).toEqual([]);
});
