import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import { onFirstCall } from '#platform/onFirstCall';
import { traced } from '#platform/powertools';
import type { VapidKeys } from './ports';

/** A rotated key pair reaches every warm push function within this long. */
const VAPID_CACHE_SECONDS = 300;

const parameters = onFirstCall(() => new SSMProvider({ awsSdkV3Client: traced(new SSMClient({})) }));

/** Why push is off: the parameter is missing or malformed (docs/OPERATIONS.md, "Push notifications"). */
export class PushNotConfigured extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PushNotConfigured';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The VAPID key pair from the SecureString parameter `parameterName`: the JSON `npx web-push generate-vapid-keys
 * --json` prints (`publicKey`, `privateKey`, base64url), decrypted, read once per VAPID_CACHE_SECONDS. `subject` is
 * the operator's contact the push services may write to (RFC 8292 `sub`).
 */
export async function vapidKeys(parameterName: string, subject: string): Promise<VapidKeys> {
  let value: string | undefined;
  try {
    value = await parameters().get(parameterName, { decrypt: true, maxAge: VAPID_CACHE_SECONDS });
  } catch (error) {
    parameters().clearCache();
    throw new PushNotConfigured(`VAPID keys not readable from ${parameterName}: ${(error as Error).message}`);
  }
  let keys: { publicKey?: unknown; privateKey?: unknown } = {};
  try {
    keys = JSON.parse(value ?? '') as typeof keys;
  } catch {
    // Reported below as malformed.
  }
  const { publicKey, privateKey } = keys;
  if (
    typeof publicKey !== 'string' ||
    typeof privateKey !== 'string' ||
    !BASE64URL.test(publicKey) ||
    !BASE64URL.test(privateKey) ||
    Buffer.from(publicKey, 'base64url').length !== 65 ||
    Buffer.from(privateKey, 'base64url').length !== 32
  ) {
    parameters().clearCache();
    throw new PushNotConfigured(
      `${parameterName} must hold {"publicKey","privateKey"} as "npx web-push generate-vapid-keys --json" prints`,
    );
  }
  return { publicKey, privateKey, subject };
}
