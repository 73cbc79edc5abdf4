/**
 * The environment variables template.yaml sets (names of the stack's resources, deploy-time constants), checked as
 * they are read: a missing one fails loudly with its name. No import: a function that reads only its environment
 * (the authorizers) carries nothing else for it, not the runtime settings' Parameter Store client (config.ts).
 */
const cache = new Map<string, string>();

/** The variable's value, read once and kept: these never change in a running function. */
export function requireEnv(name: string): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const value = presentEnv(name);
  cache.set(name, value);
  return value;
}

/** The variable's value, read now (not cached); missing or blank fails loudly with its name. */
export function presentEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      `roomcast configuration: environment variable ${name} is not set (template.yaml sets it)`,
    );
  }
  return value;
}

/**
 * A variable the template always sets but may set empty (empty = a documented default, e.g. OIDC_JWKS_URI), read
 * now. Unset is a wiring mistake and fails loudly with its name; empty gives undefined.
 */
export function declaredEnv(name: string): string | undefined {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(
      `roomcast configuration: environment variable ${name} is not set (template.yaml sets it, empty or not)`,
    );
  }
  return value.trim() === '' ? undefined : value;
}

/**
 * A number the template sets for this function. There is no default here: the template's setting is the one
 * source of the value, so a missing variable is a wiring mistake and fails loudly with its name.
 */
export function numberEnv(name: string): number {
  const raw = presentEnv(name);
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    throw new Error(`roomcast configuration: environment variable ${name} must be a number, got "${raw}"`);
  }
  return value;
}

/** A required number that must be above 0 (template.yaml sets it). */
export function positiveEnv(name: string): number {
  const raw = requireEnv(name);
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `roomcast configuration: environment variable ${name} must be a number above 0, got "${raw}"`,
    );
  }
  return value;
}
