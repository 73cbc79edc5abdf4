import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import webpush from 'web-push';
import { logger } from '#platform/powertools';
import type { PushPayload, PushSubscriptionJson } from '#protocol';
import type { PushOutcome, PushSender, VapidKeys } from './ports';
import { checkEndpoint, isInternalHost } from './subscription';

/** How long one push service request may take before it counts as failed. */
const PUSH_REQUEST_TIMEOUT_MS = 5000;

/**
 * The resolver a push's connection uses (node:dns `lookup`'s shape); tests give their own.
 * Exported for tests: the resolver pushRebinding.test.ts stands in.
 */
export type Lookup = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemLookup: Lookup = (hostname, options, callback) =>
  dnsLookup(hostname, { ...options, all: true }, callback);

/** A name that resolved to an address inside the network: the push is not sent. */
class InternalAddress extends Error {
  readonly code = 'EINTERNALADDRESS';
}

/**
 * The connection's resolver: the push service's name is resolved when the connection is made, and refused if any of
 * its addresses is loopback, private, link-local or otherwise internal (subscription.ts isInternalHost). The socket
 * connects to the addresses checked here, so a name whose DNS answer changes after the subscription was stored (DNS
 * rebinding) never points a push inside the network. Answers in both forms net.connect asks for (`all` or not).
 * Exported for tests: both answer forms net.connect may ask for, beyond one connection's.
 */
export function publicOnly(resolve: Lookup) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const internal = addresses.find((a) => isInternalHost(a.address));
      if (internal || addresses.length === 0)
        return callback(
          new InternalAddress(
            `${hostname} resolves to ${internal ? `${internal.address}, an internal address` : 'no address'}: no push is sent to it`,
          ),
          [],
        );
      if (options.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      callback(null, first.address, first.family);
    });
  };
}

/** One POST; its status, or the error that kept it from being answered. No redirect is followed. */
function post(
  endpoint: URL,
  details: { method: string; headers: Record<string, string>; body?: Buffer | null },
  lookup: ReturnType<typeof publicOnly> | undefined,
): Promise<number> {
  const send = endpoint.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      endpoint,
      {
        method: details.method,
        headers: details.headers,
        signal: AbortSignal.timeout(PUSH_REQUEST_TIMEOUT_MS),
        ...(lookup && { lookup }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(details.body ?? undefined);
  });
}

/**
 * Web Push with the `web-push` package: it signs the VAPID JWT (ES256, `aud` the endpoint's origin, `exp` 12 h) and
 * encrypts the payload (aes128gcm, RFC 8291); the request goes out with node:https through `publicOnly`'s resolver,
 * after the endpoint is checked again as a subscription is (a stored one is never trusted for being stored). The
 * local cloud's stand-in (`localPushService`, plain http on 127.0.0.1, an origin only the local cloud sets) is the one
 * endpoint reached without those checks. 201 (or any 2xx) is sent; 404 and 410 mean the subscription is gone for
 * good (RFC 8030 §7.3); anything else, a refused address included, failed for now and is logged.
 */
export class WebPushSender implements PushSender {
  private readonly lookup: ReturnType<typeof publicOnly>;

  constructor(
    private readonly keys: () => Promise<VapidKeys>,
    private readonly options: { localPushService?: string; lookup?: Lookup } = {},
  ) {
    this.lookup = publicOnly(options.lookup ?? systemLookup);
  }

  async send(
    subscription: PushSubscriptionJson,
    payload: PushPayload,
    options: { topic: string; ttlSeconds: number },
  ): Promise<PushOutcome> {
    let endpoint: URL;
    try {
      endpoint = checkEndpoint(subscription.endpoint, this.options.localPushService);
    } catch (error) {
      logger.warn('push refused: the endpoint is not a public push service', {
        error: (error as Error).message,
      });
      return 'failed';
    }
    const standIn = endpoint.origin === this.options.localPushService;
    const keys = await this.keys();
    const request = webpush.generateRequestDetails(subscription, JSON.stringify(payload), {
      vapidDetails: keys,
      TTL: options.ttlSeconds,
      urgency: 'high',
      // A push service keeps only the latest undelivered push of one topic per subscription (RFC 8030 §5.4).
      topic: options.topic,
    });
    try {
      const status = await post(
        endpoint,
        {
          method: request.method,
          headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
          body: request.body,
        },
        standIn ? undefined : this.lookup,
      );
      if (status >= 200 && status < 300) return 'sent';
      if (status === 404 || status === 410) return 'gone';
      logger.warn('push refused', { status, origin: endpoint.origin });
      return 'failed';
    } catch (error) {
      logger.warn('push not sent', { origin: endpoint.origin, error: error as Error });
      return 'failed';
    }
  }
}
