import webpush from 'web-push';
import { logger } from '#platform/powertools';
import type { PushPayload, PushSubscriptionJson } from '#protocol';
import type { PushOutcome, PushSender, VapidKeys } from './ports';

/** How long one push service request may take before it counts as failed. */
export const PUSH_REQUEST_TIMEOUT_MS = 5000;

/**
 * Web Push with the `web-push` package: it signs the VAPID JWT (ES256, `aud` the endpoint's origin, `exp` 12 h) and
 * encrypts the payload (aes128gcm, RFC 8291); the request goes out with fetch, so a push service is reached the
 * same way whatever its scheme (the local cloud's stand-in is plain http on 127.0.0.1). 201 (or any 2xx) is sent;
 * 404 and 410 mean the subscription is gone for good (RFC 8030 §7.3); anything else failed for now and is logged.
 */
export class WebPushSender implements PushSender {
  constructor(private readonly keys: () => Promise<VapidKeys>) {}

  async send(
    subscription: PushSubscriptionJson,
    payload: PushPayload,
    options: { topic: string; ttlSeconds: number },
  ): Promise<PushOutcome> {
    const keys = await this.keys();
    const request = webpush.generateRequestDetails(subscription, JSON.stringify(payload), {
      vapidDetails: keys,
      TTL: options.ttlSeconds,
      urgency: 'high',
      // A push service keeps only the latest undelivered push of one topic per subscription (RFC 8030 §5.4).
      topic: options.topic,
    });
    try {
      const response = await fetch(request.endpoint, {
        method: request.method,
        headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)])),
        body: request.body ?? undefined,
        signal: AbortSignal.timeout(PUSH_REQUEST_TIMEOUT_MS),
        redirect: 'error',
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return 'sent';
      if (response.status === 404 || response.status === 410) return 'gone';
      logger.warn('push refused', { status: response.status, origin: new URL(request.endpoint).origin });
      return 'failed';
    } catch (error) {
      logger.warn('push not sent', { origin: new URL(request.endpoint).origin, error: error as Error });
      return 'failed';
    }
  }
}
