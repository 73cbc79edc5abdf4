import { runModel } from '../../tools/bench/awsModel';
import {
  compareWithTwin,
  deployedDesign,
  notClean,
  SCENARIOS,
  templateSettings,
  withinTwice,
} from '../../tools/bench/modelRuns';
import { AWS } from '../../tools/local/awsProfile';

/** The model's command-line side: the template's settings it follows, a clean run, the twin's comparison. */

it("follows the template's fan-out settings and knows which design it deploys", () => {
  expect(templateSettings()).toMatchObject({
    chunkSize: expect.any(Number),
    chunksAtOnce: expect.any(Number),
    pipeBatch: 10,
    eventRetries: 3,
    eventMaxAgeMs: 300_000,
    roomsAtOnce: 10,
  });
  expect(['queue', 'wake']).toContain(deployedDesign());
});

it('calls a run clean only with p99 within a second, a bounded backlog and nothing refused or lost', () => {
  const quiet = runModel({ design: 'wake', scenario: SCENARIOS.twin as never, profile: AWS, seed: 1 });
  expect(notClean(quiet)).toBe('');
  expect(quiet.sent).toBe(100);
  expect(notClean({ ...quiet, p99Ms: 1200 })).toBe('p99 1200 ms');
  expect(notClean({ ...quiet, backlogAtSendEnd: 500 })).toBe('backlog 500');
  expect(notClean({ ...quiet, missing: 3 })).toBe('3 receipts missing');
});

it("sets the twin's p50 and p99 beside the model's, with their ratio, and tells whether they are within 2×", () => {
  const model = runModel({ design: 'queue', scenario: SCENARIOS.twin as never, profile: AWS, seed: 1 });
  const rows = compareWithTwin({ p50Ms: model.p50Ms * 1.5, p99Ms: model.p99Ms / 1.5 }, model);
  expect(rows.map((r) => [r.what, r.ratio])).toEqual([
    ['p50', 0.67],
    ['p99', 1.5],
  ]);
  expect(withinTwice(rows)).toBe(true);
  expect(withinTwice(compareWithTwin({ p50Ms: model.p50Ms * 3, p99Ms: model.p99Ms }, model))).toBe(false);
});
