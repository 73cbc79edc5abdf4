import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { config } from '../config';
import { ssm } from './clients';

/** A rotated secret reaches every warm authorizer within this long (docs/ACCESS.md, rotating the secret). */
export const SECRET_CACHE_MS = 5 * 60 * 1000;

let cached: { value: Promise<string>; until: number } | undefined;

async function fromParameterStore(name: string): Promise<string> {
  const { Parameter } = await ssm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = Parameter?.Value;
  if (value === undefined || value === '') throw new Error(`SSM parameter ${name} has no value`);
  return value;
}

/**
 * The HMAC secret that signs connection tokens. AUTH_SECRET (set only by the local cloud's `--auth-secret`) wins;
 * otherwise the SecureString parameter named by AUTH_SECRET_PARAMETER, read once and cached for SECRET_CACHE_MS so
 * a burst of connects costs one Parameter Store call. A failed read is not cached.
 */
export function authSecret(now = Date.now()): Promise<string> {
  const local = process.env.AUTH_SECRET;
  if (local !== undefined && local !== '') return Promise.resolve(local);
  if (cached && now < cached.until) return cached.value;
  const value = fromParameterStore(config.authSecretParameterName());
  cached = { value, until: now + SECRET_CACHE_MS };
  value.catch(() => {
    if (cached?.value === value) cached = undefined;
  });
  return value;
}

/** Tests only: forget the cached secret. */
export function forgetAuthSecret(): void {
  cached = undefined;
}
