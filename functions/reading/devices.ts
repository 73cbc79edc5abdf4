import type { UserDevices } from '#core/aws/userDevices';
import { PERSON_DEVICES_READ } from '#core/identity/departure';
import type { Connection, Notifier } from '#core/ports';
import { logger } from '#platform/powertools';
import type { ReadFrame } from '#protocol';

/**
 * One person across devices: a read position that moved is posted, as a `read` frame without `requestId`, to the
 * person's other live connections, so a room read on the laptop stops counting as unread on the phone at once
 * (docs/PROTOCOL.md, "Read positions"). Only a signed-in user has other connections that are the same person (the
 * sparse user index holds signed-in connections alone); a guest's position stays with its own connection until its
 * next `myrooms`. Cost per moved read: one keys-only Query of the user index (at most PERSON_DEVICES_READ items)
 * and one post per other device, within the person's read budget (PersonReadRateLimit; docs/DECISIONS.md).
 */
export interface OtherDevices {
  devices: UserDevices;
  notifier: Pick<Notifier, 'post'>;
}

/**
 * Posts `frame` to each other live connection of `connection`'s user; returns how many took it. Advisory: the other
 * devices read the position in their next `myrooms` anyway, so a failure is logged and the read stands; a connection
 * gone meanwhile (410) is skipped, its $disconnect removes it from the index.
 */
export async function tellOtherDevices(
  deps: OtherDevices,
  connection: Pick<Connection, 'connectionId' | 'userId'>,
  frame: ReadFrame,
): Promise<number> {
  const { userId } = connection;
  if (!userId?.startsWith('user:')) return 0;
  try {
    const ids = await deps.devices.connectionsOf(userId, PERSON_DEVICES_READ);
    const payload = JSON.stringify(frame);
    const outcomes = await Promise.all(
      ids
        .filter((id) => id !== connection.connectionId)
        .map((id) => deps.notifier.post(id, payload).catch(() => 'failed' as const)),
    );
    return outcomes.filter((outcome) => outcome === 'delivered').length;
  } catch (error) {
    logger.warn('read position not told to the other devices', { roomId: frame.roomId, error });
    return 0;
  }
}
