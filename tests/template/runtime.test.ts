import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate } from '../../infra/template';

/**
 * The functions run on Lambda under the newest Node.js line the suite is tested on: CI runs the whole suite on each
 * line of .ci/run's NODE_LINES, so a runtime newer than those is untested, and an older one leaves users on a line
 * nearer its end of life than they need be.
 */
const root = join(__dirname, '..', '..');

it('runs every function on the newest Node.js line CI tests', () => {
  const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
  const lines = (/^NODE_LINES="([0-9 ]+)"$/m.exec(ci)?.[1] ?? '').split(' ').map(Number);
  expect(lines.length).toBeGreaterThan(0);
  const runtimes = new Set(
    loadTemplate(join(root, 'template.yaml'))
      .functions()
      .map((f) => f.runtime),
  );
  expect([...runtimes]).toEqual([`nodejs${Math.max(...lines)}.x`]);
});
