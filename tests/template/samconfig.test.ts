import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';

/**
 * samconfig.toml's profiles pass only parameters template.yaml declares, with values it allows. `sam deploy` drops
 * an override the template has no parameter for without a word, so a profile naming a removed one (a setting moved
 * to the runtime settings document, say) would deploy something other than it says.
 */
const root = join(__dirname, '..', '..');
const samconfig = parseToml(readFileSync(join(root, 'samconfig.toml'), 'utf8')) as Record<string, unknown>;
const template = parseYaml(readFileSync(join(root, 'template.yaml'), 'utf8'), { logLevel: 'silent' }) as {
  Parameters: Record<string, { AllowedValues?: string[]; AllowedPattern?: string }>;
};

/**
 * `parameter_overrides` as SAM CLI reads it: Key=Value pairs separated by spaces, a value quoted with " or ' when
 * it has spaces (or written as a list of such strings). Anything else is refused, so a typo cannot hide.
 */
function overridesOf(value: unknown): Record<string, string> {
  const text = Array.isArray(value) ? value.join(' ') : String(value);
  const pairs: Record<string, string> = {};
  const pair = /\s*([A-Za-z0-9]+)=(?:"([^"]*)"|'([^']*)'|([^\s"']*))\s*/y;
  while (pair.lastIndex < text.length) {
    const start = pair.lastIndex;
    const m = pair.exec(text);
    if (!m) throw new Error(`parameter_overrides: cannot read from "${text.slice(start)}"`);
    pairs[m[1] as string] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return pairs;
}

/** Every profile's [<env>.deploy.parameters].parameter_overrides. */
const profiles = Object.entries(samconfig)
  .filter(([, env]) => typeof env === 'object' && env !== null)
  .map(([name, env]) => {
    const deploy = (env as { deploy?: { parameters?: { parameter_overrides?: unknown } } }).deploy;
    return [name, deploy?.parameters?.parameter_overrides] as const;
  })
  .filter(([, overrides]) => overrides !== undefined);

it('reads the demo profile, which passes overrides', () => {
  expect(profiles.map(([name]) => name)).toContain('demo');
});

/**
 * What template.yaml refuses of `overrides`: a parameter it lacks, or a value outside its AllowedValues or
 * AllowedPattern. Every value is a string, as SAM CLI writes it (`LogRetentionDays="14"`) and CloudFormation takes it,
 * whatever the parameter's Type: AllowedValues are compared as strings too (YAML reads `[1, 3, 14]` as numbers).
 */
function refused(overrides: Record<string, string>): string[] {
  return Object.entries(overrides).flatMap(([key, value]) => {
    const parameter = template.Parameters[key];
    if (!parameter) return [`${key}: not a parameter of template.yaml`];
    const { AllowedValues: allowed, AllowedPattern: pattern } = parameter;
    if (allowed && !allowed.map(String).includes(value))
      return [`${key}=${value}: not one of its AllowedValues`];
    if (pattern && !new RegExp(`^(?:${pattern})$`).test(value))
      return [`${key}=${value}: not its AllowedPattern`];
    return [];
  });
}

it.each(profiles)(
  "the %s profile's overrides name only template.yaml's parameters, with values it allows",
  (_, raw) => {
    const overrides = overridesOf(raw);
    expect(Object.keys(overrides).length).toBeGreaterThan(0);
    expect(refused(overrides)).toEqual([]);
  },
);

it('accepts the overrides a guided deploy saves (each value quoted, numbers too) and refuses values outside the template', () => {
  // What `sam deploy --guided` writes when its answers are saved: every parameter, each value a quoted string.
  const saved = Object.fromEntries(
    Object.entries(template.Parameters).map(([key, p]) => [
      key,
      String((p as { Default?: unknown }).Default ?? ''),
    ]),
  );
  const written = Object.entries(saved)
    .map(([key, value]) => `${key}="${value}"`)
    .join(' ');
  expect(written).toContain('LogRetentionDays="14"');
  expect(refused(overridesOf(written))).toEqual([]);
  expect(refused({ LogRetentionDays: '15' })).toEqual(['LogRetentionDays=15: not one of its AllowedValues']);
  expect(refused({ NoSuchParameter: 'x' })).toEqual(['NoSuchParameter: not a parameter of template.yaml']);
});

/** The SAM CLI commands that read template.yaml, so need `language_extensions` for its Fn::ForEach loops. */
const TEMPLATE_COMMANDS = [
  'build',
  'validate',
  'deploy',
  'sync',
  'package',
  'local_invoke',
  'local_start_lambda',
  'local_start_api',
];

it.each(Object.keys(samconfig).filter((key) => typeof samconfig[key] === 'object'))(
  'the %s environment turns language_extensions on for every SAM command that reads the template',
  (env) => {
    const commands = samconfig[env] as Record<string, { parameters?: { language_extensions?: unknown } }>;
    const missing = TEMPLATE_COMMANDS.filter(
      (command) => commands[command]?.parameters?.language_extensions !== true,
    );
    expect(missing).toEqual([]);
  },
);

it('has the guided deploy default to deploying: no change set to confirm in any environment', () => {
  for (const env of Object.values(samconfig).filter((value) => typeof value === 'object'))
    expect(
      (env as { deploy?: { parameters?: { confirm_changeset?: unknown } } }).deploy?.parameters
        ?.confirm_changeset,
    ).toBe(false);
});

it('reads overrides as SAM CLI does, and refuses what it cannot read', () => {
  expect(overridesOf('AuthMode="none" LogLevel=DEBUG X=\'a b\'')).toEqual({
    AuthMode: 'none',
    LogLevel: 'DEBUG',
    X: 'a b',
  });
  expect(overridesOf(['AuthMode=none', 'HostWebChat="false"'])).toEqual({
    AuthMode: 'none',
    HostWebChat: 'false',
  });
  expect(() => overridesOf('AuthMode none')).toThrow('cannot read from "AuthMode none"');
});
