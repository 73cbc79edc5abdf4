/** A `--parameter Key=Value` that does not have that shape. */
export class ParameterSyntaxError extends Error {
  constructor(pair: string) {
    super(`--parameter must look like Key=Value, got "${pair}"`);
    this.name = 'ParameterSyntaxError';
  }
}

/**
 * Template parameter overrides as every command line takes them (`--parameter Key=Value`, repeatable, as
 * `sam deploy --parameter-overrides`): the value is everything after the first `=`, so it may hold more `=`.
 * Whether the template declares the key and the value fits is loadTemplate's check, not this one.
 */
export function parseParameterOverrides(pairs: readonly string[] = []): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new ParameterSyntaxError(pair);
    parameters[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return parameters;
}

/** The parameter that carries every setting tuned after the first deploy, and the mapping of their defaults. */
export const SETTINGS_PARAMETER = 'Settings';
export const SETTINGS_MAPPING = 'Settings';

/** The settings a template declares: `Mappings.Settings.Defaults`, name -> default (empty when it has none). */
export function settingDefaults(raw: Record<string, unknown>): Record<string, string> {
  const mappings = raw.Mappings as Record<string, Record<string, Record<string, unknown>>> | undefined;
  const defaults = mappings?.[SETTINGS_MAPPING]?.Defaults ?? {};
  return Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, String(value)]));
}

/**
 * The value of one setting, read exactly as template.yaml reads it: the text after the first `,Name=` in
 * `,<Settings>,Name=<default>`, up to the next comma. A value given in Settings comes first, so it wins.
 */
export function settingValue(settings: string, name: string, fallback: string): string {
  const text = `,${settings},${name}=${fallback}`;
  return text.split(`,${name}=`)[1]?.split(',')[0] ?? fallback;
}

/**
 * `--parameter SendRateLimit=3` for a setting is shorthand for `--parameter Settings=SendRateLimit=3` (the local
 * cloud's and the tests' convenience; `sam deploy` takes only Settings). Such overrides are folded into Settings,
 * replacing what Settings already holds for the same name, so the one named on its own wins.
 */
export function foldSettings(
  overrides: Record<string, string>,
  defaults: Record<string, string>,
): Record<string, string> {
  const folded: Record<string, string> = {};
  const items: string[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    if (name in defaults && name !== SETTINGS_PARAMETER) items.push(`${name}=${value}`);
    else folded[name] = value;
  }
  if (items.length === 0) return overrides;
  const named = new Set(items.map((item) => item.slice(0, item.indexOf('='))));
  const given = (folded[SETTINGS_PARAMETER] ?? '')
    .split(',')
    .filter((item) => item !== '' && !named.has(item.slice(0, item.indexOf('='))));
  folded[SETTINGS_PARAMETER] = [...items, ...given].join(',');
  return folded;
}

/**
 * Refuses a Settings value item by item, naming the first item the parameter's AllowedPattern does not allow (the
 * pattern is written so that it matches any list of allowed items, hence any one of them), or a setting named twice.
 */
export function checkSettings(value: string, allowedPattern: string, defaults: Record<string, string>): void {
  const allowed = new RegExp(`^(?:${allowedPattern})$`);
  const seen = new Set<string>();
  for (const item of value.split(',').filter((i) => i !== '')) {
    const name = item.slice(0, Math.max(0, item.indexOf('=')));
    if (!(name in defaults)) {
      throw new Error(`Settings: "${item}" names no setting (known: ${Object.keys(defaults).join(', ')})`);
    }
    if (!allowed.test(item)) {
      throw new Error(`Settings: "${item}" is outside the values ${name} may take (docs/OPERATIONS.md)`);
    }
    if (seen.has(name)) throw new Error(`Settings: ${name} is given twice`);
    seen.add(name);
  }
}
