/**
 * Configuration comes from environment variables that template.yaml sets (and the local cloud sets from the same
 * template). Each value is read and checked once, on first use at cold start; a missing one fails loudly with its name.
 */
const cache = new Map<string, string>();

export function requireEnv(name: string): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      `roomcast configuration: environment variable ${name} is not set (template.yaml sets it)`,
    );
  }
  cache.set(name, value);
  return value;
}

export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    throw new Error(`roomcast configuration: environment variable ${name} must be a number, got "${raw}"`);
  }
  return value;
}

export const config = {
  connectionsTable: () => requireEnv('CONNECTIONS_TABLE'),
  roomIndex: () => requireEnv('ROOM_INDEX'),
  roomsTable: () => requireEnv('ROOMS_TABLE'),
  messagesTable: () => requireEnv('MESSAGES_TABLE'),
  sendsTable: () => requireEnv('SENDS_TABLE'),
  eventBusName: () => requireEnv('EVENT_BUS_NAME'),
  /**
   * The management API of this stage. The SDK's standard service endpoint variable wins, as it does for every other
   * client, which is how the local cloud points Lambda functions at its own gateway.
   */
  callbackUrl: () => process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || requireEnv('CALLBACK_URL'),
  messageRetentionDays: () => numberEnv('MESSAGE_RETENTION_DAYS', 7),
  /** Per-connection send rate (template parameters SendRateLimit/SendRateWindowSeconds); absent = no limit. */
  sendRate: () => {
    const limit = numberEnv('SEND_RATE_LIMIT', 0);
    if (limit <= 0) return undefined;
    const windowSeconds = numberEnv('SEND_RATE_WINDOW_SECONDS', 10);
    if (windowSeconds <= 0) {
      throw new Error('roomcast configuration: SEND_RATE_WINDOW_SECONDS must be above 0');
    }
    return { limit, windowSeconds };
  },
  /** The token secret itself, set only by the local cloud (`--auth-secret`); read on every call, never cached. */
  localAuthSecret: (): string | undefined => process.env.AUTH_SECRET,
  /** SecureString parameter holding the connection-token secret (template parameter AuthSecretParameterName). */
  authSecretParameterName: () => requireEnv('AUTH_SECRET_PARAMETER'),
  /** The one origin the broadcast API answers CORS for (template parameter BroadcastAllowedOrigin). */
  broadcastAllowedOrigin: () => requireEnv('BROADCAST_ALLOWED_ORIGIN'),
};
