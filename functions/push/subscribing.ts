import { BadRequest, ChatError, Forbidden } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import type { ChatPorts } from '#core/ports';
import { PUSH_LIMITS, type PushSubscriptionFrame } from '#protocol';
import type { PushSubscriptionStore, VapidKeys } from './ports';
import { checkEndpoint, parseSubscription } from './subscription';
import { PushNotConfigured } from './vapid';

type SubscribingDeps = Pick<ChatPorts, 'connections'> & {
  subscriptions: PushSubscriptionStore;
  keys: () => Promise<VapidKeys>;
  localPushService?: string;
};

const PUSH_NEEDS_SIGN_IN =
  'Push notifications need sign-in: a subscription belongs to a person, and without sign-in there is nobody to ' +
  'keep it for. Sign in first.';

/** The caller's user id, refused without sign-in. */
async function signedInUser(deps: SubscribingDeps, connectionId: string): Promise<string> {
  const caller = await requireConnection(deps, connectionId);
  if (!caller.userId?.startsWith('user:')) throw new Forbidden(PUSH_NEEDS_SIGN_IN);
  return caller.userId;
}

/** The public key, or an error frame saying push is off in this deployment (the operator's fix is logged). */
async function publicKey(deps: SubscribingDeps): Promise<string> {
  try {
    return (await deps.keys()).publicKey;
  } catch (error) {
    if (!(error instanceof PushNotConfigured)) throw error;
    throw new ChatError('INTERNAL', 503, error.message, {
      publicMessage: 'Push notifications are not set up on this server.',
      fault: 'server',
    });
  }
}

/**
 * pushsubscribe: stores the caller's browser subscription (checked first: subscription.ts), or without one only
 * answers the VAPID public key to subscribe with. A user keeps at most PUSH_LIMITS.subscriptionsPerUser.
 */
export async function pushSubscribe(
  deps: SubscribingDeps,
  connectionId: string,
  body: Record<string, unknown>,
): Promise<PushSubscriptionFrame> {
  const subscription =
    body.subscription === undefined ? undefined : parseSubscription(body.subscription, deps.localPushService);
  const userId = await signedInUser(deps, connectionId);
  const key = await publicKey(deps);
  if (!subscription) return { type: 'pushsubscription', publicKey: key, stored: false };
  if (!(await deps.subscriptions.put(userId, subscription, PUSH_LIMITS.subscriptionsPerUser)))
    throw new BadRequest(
      `You already have ${PUSH_LIMITS.subscriptionsPerUser} push subscriptions; turn notifications off on a browser you no longer use first.`,
    );
  return { type: 'pushsubscription', publicKey: key, stored: true };
}

/** pushunsubscribe: removes the caller's subscription with `endpoint`. */
export async function pushUnsubscribe(
  deps: SubscribingDeps,
  connectionId: string,
  body: Record<string, unknown>,
): Promise<PushSubscriptionFrame> {
  if (typeof body.endpoint !== 'string' || body.endpoint === '')
    throw new BadRequest('"endpoint" must be the endpoint of the subscription to remove.');
  const endpoint = checkEndpoint(body.endpoint, deps.localPushService).href;
  const userId = await signedInUser(deps, connectionId);
  const removed = await deps.subscriptions.remove(userId, endpoint);
  return { type: 'pushsubscription', publicKey: await publicKey(deps), stored: removed };
}
