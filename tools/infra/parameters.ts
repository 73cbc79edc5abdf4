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

/**
 * The deploy-time constants: template.yaml's `Mappings.Deploy.Settings` (what CloudFormation itself consumes; the
 * runtime settings are functions/platform/settingsSchema.ts), name -> value.
 */
export function deployConstants(raw: Record<string, unknown>): Record<string, string> {
  const mappings = raw.Mappings as Record<string, Record<string, Record<string, unknown>>> | undefined;
  const constants = mappings?.Deploy?.Settings ?? {};
  return Object.fromEntries(Object.entries(constants).map(([name, value]) => [name, String(value)]));
}

/**
 * The template with some deploy-time constants changed: the local cloud's and the tests' stand-in for editing
 * template.yaml's Mappings and redeploying. A name that is no constant is refused with the known ones.
 */
export function withDeployConstants(
  raw: Record<string, unknown>,
  changes: Record<string, string> = {},
): Record<string, unknown> {
  if (Object.keys(changes).length === 0) return raw;
  const known = deployConstants(raw);
  for (const name of Object.keys(changes)) {
    if (!(name in known)) {
      throw new Error(
        `${name} is not a deploy-time constant of Mappings.Deploy.Settings (known: ${Object.keys(known).join(', ')})`,
      );
    }
  }
  const mappings = raw.Mappings as Record<string, unknown>;
  return {
    ...raw,
    Mappings: { ...mappings, Deploy: { Settings: { ...known, ...changes } } },
  };
}

/**
 * Overrides given by name, sorted into what each is: a template parameter, a deploy-time constant
 * (Mappings.Deploy.Settings) or else a runtime setting (the settings document; the local cloud checks it against
 * functions/platform/settingsSchema.ts). For tools that take one `Key=Value` list (the benchmark).
 */
export function partitionOverrides(
  raw: Record<string, unknown>,
  given: Record<string, string>,
): {
  parameters: Record<string, string>;
  constants: Record<string, string>;
  settings: Record<string, string>;
} {
  const declared = (raw.Parameters ?? {}) as Record<string, unknown>;
  const constants = deployConstants(raw);
  const out = { parameters: {}, constants: {}, settings: {} } as ReturnType<typeof partitionOverrides>;
  for (const [name, value] of Object.entries(given)) {
    const into = name in declared ? out.parameters : name in constants ? out.constants : out.settings;
    into[name] = value;
  }
  return out;
}
