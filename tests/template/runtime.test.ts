import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';

/**
 * The functions run on Lambda under the Node.js line CI runs the whole suite on (.ci/run's NEWEST): a newer runtime is
 * untested, an older one leaves users on a line nearer its end of life than they need be. package.json's engines
 * admit no line older than the one CI also tests (OLDER).
 */
const root = join(__dirname, '..', '..');

const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
const line = (name: string) => Number(new RegExp(`^${name}=([0-9]+)$`, 'm').exec(ci)?.[1]);

it('runs every function on the newest Node.js line CI tests', () => {
  const lines = [line('NEWEST'), line('OLDER')];
  expect(lines.every((major) => major >= 22)).toBe(true);
  const runtimes = new Set(
    loadTemplate(join(root, 'template.yaml'))
      .functions()
      .map((f) => f.runtime),
  );
  expect([...runtimes]).toEqual([`nodejs${Math.max(...lines)}.x`]);
});

it('admits in package.json no Node.js line older than the ones CI tests', () => {
  const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;
  expect(engines).toBe(`>=${line('OLDER')}.12.0`);
});
