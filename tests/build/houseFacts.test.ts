import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTemplateFile } from '../../tools/infra/template';

/**
 * The counts and lists the docs give of the house match the house: functions/README.md's table has a row for each
 * folder of functions/ and none for a folder that is gone, and docs/MEASUREMENTS.md's template line states the
 * template's own numbers of resources (before the SAM transform), functions and parameters. A feature folder or a
 * function added without its line fails here, naming what differs.
 */
const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const raw = readTemplateFile(join(ROOT, 'template.yaml')).raw as {
  Resources: Record<string, { Type: string }>;
  Parameters: Record<string, unknown>;
};
const resources = Object.values(raw.Resources);

it("functions/README.md's table names every folder of functions/ and no other", () => {
  const folders = readdirSync(join(ROOT, 'functions'))
    .filter((name) => statSync(join(ROOT, 'functions', name)).isDirectory())
    .sort();
  const rows = read('functions/README.md')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      [...(line.split(' | ')[0] ?? '').matchAll(/`([a-z]+)\/`/g)].map((m) => m[1] as string),
    );
  expect([...new Set(rows)].sort()).toEqual(folders);
});

it("docs/MEASUREMENTS.md's template line states the template's resources, functions and parameters", () => {
  const line = read('docs/MEASUREMENTS.md')
    .split('\n')
    .find((l) => l.startsWith('- **template**:'));
  expect(line).toBeDefined();
  const stated = /(\d+) resources .* (\d+) functions, (\d+) parameters/.exec(line ?? '');
  expect(stated?.slice(1).map(Number)).toEqual([
    resources.length,
    resources.filter((r) => r.Type === 'AWS::Serverless::Function').length,
    Object.keys(raw.Parameters).length,
  ]);
});
