import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import { onFirstCall } from '#platform/onFirstCall';
import { traced } from '#platform/powertools';

/** A rotated secret reaches every warm authorizer within this long (docs/ACCESS.md, rotating the secret). */
const SECRET_CACHE_MS = 5 * 60 * 1000;

/** Powertools' Parameters utility: it caches each value for maxAge and never caches a failed read. */
const parameters = onFirstCall(() => new SSMProvider({ awsSdkV3Client: traced(new SSMClient({})) }));

/**
 * The HMAC secret that signs connection tokens. `localSecret` (AUTH_SECRET, set only by the local cloud's
 * `--auth-secret`) wins; otherwise the SecureString parameter `parameterName`, decrypted, read once and cached for
 * SECRET_CACHE_MS so the connects of the next minutes cost no Parameter Store call.
 */
export async function authSecret(source: {
  localSecret?: string;
  parameterName: () => string;
}): Promise<string> {
  if (source.localSecret !== undefined && source.localSecret !== '') return source.localSecret;
  const name = source.parameterName();
  const value = await parameters().get(name, { decrypt: true, maxAge: SECRET_CACHE_MS / 1000 });
  if (value === undefined || value === '') {
    // An empty value is a failed read: do not keep it for the next connects.
    parameters().clearCache();
    throw new Error(`SSM parameter ${name} has no value`);
  }
  return value;
}

/** Exported for tests: a test hook, to forget the cached secret. */
export function forgetAuthSecret(): void {
  parameters().clearCache();
}
