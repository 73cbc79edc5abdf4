import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTemplateFile } from '../../tools/infra/template';

/**
 * The counts and lists the docs give of the house match the house: functions/README.md's table has a row for each
 * folder of functions/ and none for a folder that is gone, and docs/MEASUREMENTS.md's template line states the
 * template's own numbers of resources (before the SAM transform), functions and parameters; docs/ARCHITECTURE.md's
 * table of tables has a row for each DynamoDB table of the template and none for a table that is gone; and
 * docs/DECISIONS.md counts the dead-letter alarms (a loop makes them) and the others as the template has them. A
 * feature folder, a function, a table or an alarm added without its line fails here, naming what differs.
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

it("docs/ARCHITECTURE.md's table of tables names every DynamoDB table of the template and no other", () => {
  const section = read('docs/ARCHITECTURE.md')
    .split('\n## ')
    .find((part) => part.startsWith('Tables and items'));
  const rows = (section ?? '')
    .split('\n')
    .flatMap((line) => /^\| `([A-Za-z]+Table)`/.exec(line)?.slice(1) ?? []);
  const tables = Object.entries(raw.Resources)
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')
    .map(([id]) => id);
  expect(rows.sort()).toEqual(tables.sort());
});

it('docs/DECISIONS.md counts the dead-letter alarms and the others as the template has them', () => {
  const stated = /The (\d+) alarms besides the (\d+) dead-letter alarms/.exec(read('docs/DECISIONS.md'));
  const alarms = Object.entries(raw.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  const deadLetter = alarms.filter(([id]) => id.endsWith('DeadLetterAlarm'));
  expect(stated?.slice(1).map(Number)).toEqual([alarms.length - deadLetter.length, deadLetter.length]);
});
