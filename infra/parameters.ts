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
