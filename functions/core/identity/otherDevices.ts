import type { UserDevices } from '#core/aws/userDevices';
import { PERSON_DEVICES_READ } from '#core/identity/departure';
import type { Connection, Notifier } from '#core/ports';
import { logger } from '#platform/powertools';
import type { ServerFrame } from '#protocol';

/**
 * One person across devices: a change of the person's own state (a read position that moved, a room's notices, the
 * profile) is posted, as the same frame without `requestId`, to the person's other live connections, so what was
 * done on the laptop shows on the phone at once (docs/PROTOCOL.md, "Read positions, your rooms, direct messages").
 * Only a signed-in user has other connections that are the same person (the sparse user index holds signed-in
 * connections alone); a guest's other connection learns it from its next `myrooms`. Cost per change: one keys-only
 * Query of the user index (at most PERSON_DEVICES_READ items) and one post per other device, within the person's
 * budget for the change (docs/DECISIONS.md).
 */
export interface OtherDevices {
  devices: UserDevices;
  notifier: Pick<Notifier, 'post'>;
}

/**
 * Posts `frame` to each other live connection of `connection`'s user; returns how many took it. Advisory: the other
 * devices read the state in their next `myrooms` (or `findpeople`, `joined`) anyway, so a failure is logged and the
 * change stands; a connection gone meanwhile (410) is skipped, its $disconnect removes it from the index.
 */
export async function tellOtherDevices(
  deps: OtherDevices,
  connection: Pick<Connection, 'connectionId' | 'userId'>,
  frame: ServerFrame,
): Promise<number> {
  const { userId } = connection;
  if (!userId?.startsWith('user:')) return 0;
  const { requestId: _asked, ...told } = frame as ServerFrame & { requestId?: string };
  try {
    const ids = await deps.devices.connectionsOf(userId, PERSON_DEVICES_READ);
    const payload = JSON.stringify(told);
    const outcomes = await Promise.all(
      ids
        .filter((id) => id !== connection.connectionId)
        .map((id) => deps.notifier.post(id, payload).catch(() => 'failed' as const)),
    );
    return outcomes.filter((outcome) => outcome === 'delivered').length;
  } catch (error) {
    logger.warn('a change not told to the other devices', { type: frame.type, error });
    return 0;
  }
}
