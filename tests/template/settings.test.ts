import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingDefaults } from '../../tools/infra/parameters';
import { loadTemplate } from '../../tools/infra/template';
import { transformedTemplate } from '../helpers/samTransform';

/**
 * Each setting of the `Settings` parameter is read in one place of template.yaml, so changing how a setting is read
 * touches the template once and no copy can drift; and every setting docs/OPERATIONS.md documents reaches what
 * uses it: an environment variable some function or local-cloud code reads, a substitution the state machine's
 * definition uses, or a property the CloudFormation resource type has.
 */
const root = join(__dirname, '..', '..');
const raw = loadTemplate(join(root, 'template.yaml')).raw as Record<string, unknown>;
const defaults = settingDefaults(raw);
const { Resources } = transformedTemplate();

type Path = string[];
interface Read {
  name: string;
  /** Where the read's value goes: the template path up to the first intrinsic function around it. */
  path: Path;
  node: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const upToIntrinsic = (path: Path): Path => {
  const at = path.findIndex((key) => key.startsWith('Fn::'));
  return at < 0 ? path : path.slice(0, at);
};

/** Every `!Split [',<Name>=', …]` in the template: the one step that picks a setting out of `,<Settings>,…`. */
function reads(node: unknown, path: Path = []): Read[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => reads(v, [...path, String(i)]));
  if (!isObj(node)) return [];
  const split = node['Fn::Split'];
  const name =
    Array.isArray(split) && typeof split[0] === 'string' ? /^,(\w+)=$/.exec(split[0])?.[1] : undefined;
  const here = name ? [{ name, path: upToIntrinsic(path), node }] : [];
  return [...here, ...Object.entries(node).flatMap(([key, value]) => reads(value, [...path, key]))];
}

/** The paths (up to the first intrinsic function) of every `!GetAtt <logicalId>.Value`, in either form. */
function valueRefs(node: unknown, logicalId: string, path: Path = []): Path[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => valueRefs(v, logicalId, [...path, String(i)]));
  if (typeof node === 'string') return node.includes(`\${${logicalId}.Value}`) ? [upToIntrinsic(path)] : [];
  if (!isObj(node)) return [];
  const getAtt = node['Fn::GetAtt'];
  const target = typeof getAtt === 'string' ? getAtt : Array.isArray(getAtt) ? getAtt.join('.') : undefined;
  if (target === `${logicalId}.Value`) return [upToIntrinsic(path)];
  return Object.entries(node).flatMap(([key, value]) => valueRefs(value, logicalId, [...path, key]));
}

const templateReads = reads(raw);

describe('each setting read once', () => {
  it('reads every setting of Mappings.Settings.Defaults, each in one place outside Conditions', () => {
    const counts = new Map<string, number>();
    for (const read of templateReads.filter((r) => r.path[0] !== 'Conditions')) {
      counts.set(read.name, (counts.get(read.name) ?? 0) + 1);
    }
    const twice = [...counts].filter(([, count]) => count !== 1);
    expect(twice).toEqual([]);
    expect([...counts.keys()].sort()).toEqual(Object.keys(defaults).sort());
  });

  it('reads a setting in a Condition only where CloudFormation allows nothing else (a Condition sees no resource)', () => {
    const inConditions = templateReads.filter((r) => r.path[0] === 'Conditions').map((r) => r.name);
    expect(inConditions).toEqual(['DeliverReservedConcurrency']);
  });

  it('names the same setting at every step of each read, so a typo cannot pick another value', () => {
    for (const { name, node } of templateReads) {
      expect(node).toEqual({
        'Fn::Split': [
          `,${name}=`,
          {
            'Fn::Sub': [
              `,\${Settings},${name}=\${D}`,
              { D: { 'Fn::FindInMap': ['Settings', 'Defaults', name] } },
            ],
          },
        ],
      });
    }
  });
});

/** The settings docs/OPERATIONS.md lists in its "Settings" table (a row may name two, `A` / `B`). */
function documentedSettings(): string[] {
  const text = readFileSync(join(root, 'docs', 'OPERATIONS.md'), 'utf8');
  const section = text.slice(
    text.indexOf('\n## Settings'),
    text.indexOf('\n## ', text.indexOf('\n## Settings') + 1),
  );
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] as string));
}

/** Every TypeScript source of the functions and the local cloud (what can read an environment variable). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
}
const code = [...sources(join(root, 'functions')), ...sources(join(root, 'tools', 'local'))];
const readsEnv = (variable: string) => code.some((text) => new RegExp(`['"\`.]${variable}\\b`).test(text));

/** The properties CloudFormation's schema gives each resource type (the schemas cfn-lint ships). */
function schemaProperties(types: string[]): Record<string, string[]> {
  const script = [
    'import json, sys',
    'from cfnlint.schema import PROVIDER_SCHEMA_MANAGER as m',
    "print(json.dumps({t: list(m.get_resource_schema('us-east-1', t).schema['properties']) for t in sys.argv[1:]}))",
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, ...types], { encoding: 'utf8' }));
}

/**
 * Where a setting's value ends up in the template CloudFormation receives (after the SAM transform, so Globals are
 * merged into each function): through an AWS::SSM::Parameter that holds it to the properties that take its Value.
 */
function destinations(name: string): Path[] {
  const direct = reads({ Resources }).filter((r) => r.name === name);
  return direct.flatMap(({ path }) => {
    const [, logicalId, section, property] = path;
    const holder = logicalId !== undefined && Resources[logicalId]?.Type === 'AWS::SSM::Parameter';
    if (!(holder && section === 'Properties' && property === 'Value')) return [path];
    return valueRefs({ Resources }, logicalId as string);
  });
}

describe('every documented setting reaches what uses it', () => {
  const documented = documentedSettings();
  const schemas = schemaProperties([...new Set(Object.values(Resources).map((r) => r.Type))]);
  const definition = readFileSync(join(root, 'statemachines', 'fanout.asl.json'), 'utf8');

  it('documents exactly the settings the template declares', () => {
    expect([...documented].sort()).toEqual(Object.keys(defaults).sort());
  });

  it.each(documented)('%s', (name) => {
    const paths = destinations(name);
    expect(paths.length).toBeGreaterThan(0);
    for (const path of paths) {
      const [, logicalId, section, property, ...rest] = path;
      const type = Resources[logicalId as string]?.Type as string;
      expect({ path: path.join('.'), section }).toEqual({ path: path.join('.'), section: 'Properties' });
      expect({ type, properties: schemas[type] }).toEqual({
        type,
        properties: expect.arrayContaining([property]),
      });
      if (type === 'AWS::Lambda::Function' && property === 'Environment') {
        const variable = rest[1] as string;
        expect({ variable, read: readsEnv(variable) }).toEqual({ variable, read: true });
      }
      if (type === 'AWS::StepFunctions::StateMachine' && property === 'DefinitionSubstitutions') {
        expect(definition).toContain(`\${${rest[0]}}`);
      }
    }
  });
});
