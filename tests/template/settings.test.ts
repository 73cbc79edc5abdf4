import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { DEPLOY_CONSTANTS, SETTINGS } from '#platform/settingsSchema';
import { deployConstants } from '../../tools/infra/parameters';
import { loadTemplate } from '../../tools/infra/template';
import { transformedTemplate } from '../helpers/samTransform';

/**
 * The settings have two homes and no third: the runtime settings are one JSON document in Parameter Store whose
 * schema and defaults are functions/platform/settingsSchema.ts (functions read it at run time, so no template line
 * carries one); what CloudFormation itself consumes is a named constant of Mappings.Deploy.Settings, read with
 * !FindInMap where it is used. No setting is read from a template parameter's string any more.
 */
const root = join(__dirname, '..', '..');
const raw = loadTemplate(join(root, 'template.yaml')).raw as Record<string, unknown>;
const constants = deployConstants(raw);
const { Resources } = transformedTemplate();
const runtime = Object.keys(SETTINGS);

type Path = string[];
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const upToIntrinsic = (path: Path): Path => {
  const at = path.findIndex((key) => key.startsWith('Fn::'));
  return at < 0 ? path : path.slice(0, at);
};

/** Every node of the template that satisfies `match`, with the path (up to the first intrinsic) where it is. */
function find(node: unknown, match: (node: Record<string, unknown>) => boolean, path: Path = []): Path[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => find(v, match, [...path, String(i)]));
  if (!isObj(node)) return [];
  const here = match(node) ? [upToIntrinsic(path)] : [];
  return [...here, ...Object.entries(node).flatMap(([key, value]) => find(value, match, [...path, key]))];
}

/** `!FindInMap [Deploy, Settings, <name>]`. */
const readsConstant = (name?: string) => (node: Record<string, unknown>) => {
  const args = node['Fn::FindInMap'];
  return (
    Array.isArray(args) && args[0] === 'Deploy' && args[1] === 'Settings' && (name ? args[2] === name : true)
  );
};

describe('no setting is read from a string', () => {
  it('declares no Settings parameter and no Settings mapping', () => {
    expect(Object.keys(raw.Parameters as object)).not.toContain('Settings');
    expect(Object.keys(raw.Mappings as object)).not.toContain('Settings');
  });

  it('has no !Split that picks a setting out of a list (the old `,Name=` idiom)', () => {
    const splits = find(raw, (node) => {
      const split = node['Fn::Split'];
      return Array.isArray(split) && typeof split[0] === 'string' && /^,\w+=$/.test(split[0]);
    });
    expect(splits).toEqual([]);
  });

  it('asks at most 12 questions in a guided deploy (one per template parameter)', () => {
    expect(Object.keys(raw.Parameters as object).length).toBeLessThanOrEqual(12);
  });
});

describe('runtime settings: one document, read by code', () => {
  const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

  it('gives no function a runtime setting in its environment: the document is its one source', () => {
    const carried = Object.entries(Resources).flatMap(([logicalId, r]) => {
      const variables = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      return Object.keys(variables ?? {})
        .filter((variable) => runtime.some((name) => snake(name) === variable))
        .map((variable) => `${logicalId}.${variable}`);
    });
    expect(carried).toEqual([]);
  });

  /** The functions' sources but the schema's own files. */
  const code = readdirSync(join(root, 'functions'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/^settings(Schema)?\.ts$/.test(e.name))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');

  it.each(runtime)('%s is read by the functions', (name) => {
    expect(code).toMatch(new RegExp(`\\.${name}\\b`));
  });

  it('creates the document empty ({} = every default) under a name derived from the stack', () => {
    const parameter = Resources.SettingsParameter;
    expect(parameter?.Type).toBe('AWS::SSM::Parameter');
    expect(parameter?.Properties).toMatchObject({
      Type: 'String',
      Value: '{}',
      Name: { 'Fn::Sub': `/\${AWS::StackName}/settings` },
    });
  });

  /**
   * The functions whose bundle holds functions/platform/settings.ts (esbuild's metafile), so load the document: every
   * entry point through `instrumented`. The authorizers read no runtime setting (functions/platform/signIn.ts).
   */
  let loaders: string[];
  beforeAll(async () => {
    const entries = Object.entries(
      raw.Resources as Record<string, { Metadata?: { BuildProperties?: object } }>,
    )
      .map(([logicalId, r]) => [
        logicalId,
        (r.Metadata?.BuildProperties as { EntryPoints?: string[] })?.EntryPoints,
      ])
      .filter((pair): pair is [string, string[]] => Array.isArray(pair[1]));
    const settingsModule = join('functions', 'platform', 'settings.ts');
    loaders = [];
    for (const [logicalId, entryPoints] of entries) {
      const { metafile } = await build({
        entryPoints: entryPoints.map((e) => join(root, e)),
        bundle: true,
        platform: 'node',
        packages: 'external',
        write: false,
        metafile: true,
        outdir: join(root, 'dist', 'metafile-only'),
        logLevel: 'silent',
      });
      if (Object.keys(metafile.inputs).some((input) => resolve(input) === join(root, settingsModule)))
        loaders.push(logicalId);
    }
  }, 240_000);

  it('lets exactly the functions that load the document read that one parameter, through one managed policy', () => {
    const policy = Resources.SettingsReadPolicy?.Properties?.PolicyDocument as {
      Statement: { Effect: string; Action: unknown; Resource: unknown }[];
    };
    expect(policy.Statement).toEqual([
      {
        Sid: 'ReadSettings',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter\${SettingsParameter}`,
        },
      },
    ]);
    const functions = Object.entries(Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    // Every function but the two authorizers, whose settings are deploy-time constants: least privilege.
    expect(functions.map(([logicalId]) => logicalId).filter((id) => !loaders.includes(id))).toEqual([
      'AuthorizerFunction',
      'BroadcastAuthorizerFunction',
    ]);
    for (const [logicalId, fn] of functions) {
      const props = fn.Properties ?? {};
      const role = Resources[(props.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string];
      const managed = (role?.Properties?.ManagedPolicyArns ?? []) as unknown[];
      const grants = managed.some(
        (arn) => JSON.stringify(arn) === JSON.stringify({ Ref: 'SettingsReadPolicy' }),
      );
      expect({ logicalId, grants }).toEqual({ logicalId, grants: loaders.includes(logicalId) });
      if (!loaders.includes(logicalId)) continue;
      const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      expect({ logicalId, name: env.SETTINGS_PARAMETER }).toEqual({
        logicalId,
        name: { Ref: 'SettingsParameter' },
      });
    }
  });
});

/** The properties CloudFormation's schema gives each resource type (the schemas cfn-lint ships). */
function schemaProperties(types: string[]): Record<string, string[]> {
  const script = [
    'import json, sys',
    'from cfnlint.schema import PROVIDER_SCHEMA_MANAGER as m',
    "print(json.dumps({t: list(m.get_resource_schema('us-east-1', t).schema['properties']) for t in sys.argv[1:]}))",
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, ...types], { encoding: 'utf8' }));
}

/** Every TypeScript source of the functions and the local cloud (what can read an environment variable). */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
}
const code = [...sources(join(root, 'functions')), ...sources(join(root, 'tools', 'local'))];
const readsEnv = (variable: string) => code.some((text) => new RegExp(`['"\`.]${variable}\\b`).test(text));

describe('deploy-time constants: each read where CloudFormation uses it', () => {
  const schemas = schemaProperties([...new Set(Object.values(Resources).map((r) => r.Type))]);
  const definition = readFileSync(join(root, 'statemachines', 'fanout.asl.json'), 'utf8');

  it('names only declared constants, and no runtime setting is a constant too', () => {
    const named = find(raw, readsConstant()).length;
    expect(named).toBeGreaterThan(0);
    const names = find(
      raw,
      (node) => readsConstant()(node) && !(String((node['Fn::FindInMap'] as string[])[2]) in constants),
    );
    expect(names).toEqual([]);
    expect(Object.keys(constants).filter((name) => runtime.includes(name))).toEqual([]);
  });

  it('decides ReservesDeliverConcurrency and ReservesMessagesConcurrency, the Conditions settings decide, from their constants', () => {
    const conditions = find(raw.Conditions, readsConstant()).map((path) => path[0]);
    expect(conditions).toEqual(['ReservesDeliverConcurrency', 'ReservesMessagesConcurrency']);
  });

  it.each(Object.keys(constants))('%s reaches a property of a resource', (name) => {
    const paths = find({ Resources }, readsConstant(name));
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

describe('deploy-time constants: each has a rule that npm run lint checks before a deploy', () => {
  const source = readFileSync(join(root, 'template.yaml'), 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-constants-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `node scripts/lint.mjs --constants <template>`, as `npm run lint` runs the check: its exit status and stderr. */
  function lintConstants(text: string): { status: number | null; stderr: string } {
    const path = join(dir, 'template.yaml');
    writeFileSync(path, text);
    const run = spawnSync(process.execPath, [join(root, 'scripts', 'lint.mjs'), '--constants', path], {
      encoding: 'utf8',
    });
    return { status: run.status, stderr: run.stderr };
  }

  /** template.yaml with one constant's line under Mappings.Deploy.Settings set to `value`, as an operator edits it. */
  function withConstant(name: string, value: string): string {
    const line = new RegExp(`(^  Deploy:\\n    Settings:\\n(?:      .*\\n)*?      ${name}: ).*$`, 'm');
    expect(source).toMatch(line);
    return source.replace(line, `$1'${value}'`);
  }

  it('passes template.yaml as it is, every constant with its rule in the settings schema', () => {
    expect(Object.keys(DEPLOY_CONSTANTS).sort()).toEqual(Object.keys(constants).sort());
    expect(lintConstants(source)).toEqual({ status: 0, stderr: '' });
  });

  it.each([
    ['FanoutChunkSize', '0', 'must be a whole number from 1 to 1000, got 0'],
    ['MessageRetentionDays', '7.5', 'must be a whole number from 1 to 999999, got "7.5"'],
    ['FanoutLogLevel', 'WARN', 'must be one of ALL, ERROR, FATAL, OFF, got "WARN"'],
    ['OidcJwksUri', 'http://id.example.com/jwks', 'must be empty or an https URL'],
    ['SignInCallbackUrl', 'http://app.example.com/', 'must be an https URL, or http://localhost'],
  ])('refuses %s = %s, naming the constant and what it may be', (name, value, says) => {
    const { status, stderr } = lintConstants(withConstant(name, value));
    expect(status).toBe(1);
    expect(stderr).toContain(`deploy-time constant ${name} (Mappings.Deploy.Settings) ${says}`);
  });

  it('refuses a constant added without a rule, naming it', () => {
    const added = source.replace(/^( {2}Deploy:\n {4}Settings:\n)/m, "$1      NewConstant: '1'\n");
    const { status, stderr } = lintConstants(added);
    expect(status).toBe(1);
    expect(stderr).toContain('deploy-time constant NewConstant (Mappings.Deploy.Settings) has no rule');
  });

  it('refuses a template without a constant the schema declares, naming it', () => {
    const { status, stderr } = lintConstants(
      withConstant('FanoutPageSize', '1').replace(/^ {6}FanoutPageSize: .*\n/m, ''),
    );
    expect(status).toBe(1);
    expect(stderr).toContain('the deploy-time constant FanoutPageSize of settingsSchema.ts is missing');
  });
});

/** The settings docs/OPERATIONS.md lists in its "Settings" tables (a row may name two, `A` / `B`). */
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

it('documents exactly the runtime settings and the deploy-time constants', () => {
  expect([...documentedSettings()].sort()).toEqual([...runtime, ...Object.keys(constants)].sort());
});
