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

it.each(profiles)(
  "the %s profile's overrides name only template.yaml's parameters, with values it allows",
  (_, raw) => {
    const overrides = overridesOf(raw);
    expect(Object.keys(overrides).length).toBeGreaterThan(0);
    const unknown = Object.keys(overrides).filter((key) => !(key in template.Parameters));
    expect(unknown).toEqual([]);
    for (const [key, value] of Object.entries(overrides)) {
      const { AllowedValues: allowed, AllowedPattern: pattern } = template.Parameters[key] ?? {};
      if (allowed) expect({ [key]: allowed.includes(value) }).toEqual({ [key]: true });
      if (pattern) expect({ [key]: new RegExp(`^(?:${pattern})$`).test(value) }).toEqual({ [key]: true });
    }
  },
);

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
