import type { UserDevices } from '#core/aws/userDevices';
import type { Notifier } from '#core/ports';
import { logger } from '#platform/powertools';
import type { DmOpenedFrame } from '#protocol';

/**
 * The notice a user's connected devices get when someone opens a direct-message room with them that was not in
 * their rooms: `dmopened`, the room as `myrooms` would list it, so "your rooms" shows it at once instead of on the
 * next `myrooms`. Sent once per such open (memberships.ts decides when), never per message: one Query of the sparse
 * user index and one post per device.
 */

/**
 * Devices told at most: a user's phones, tabs and laptops, well past any one person's, and the cost stays bounded.
 * Exported for tests: the device cap dmNotice.test.ts expects asked for.
 */
export const DM_NOTICE_MAX_DEVICES = 25;

type DmNoticeDeps = { devices: UserDevices; notifier: Pick<Notifier, 'post'> };

/**
 * Posts `dmopened` to each of `userId`'s connections; returns how many took it. Advisory: the user finds the room
 * in its next `myrooms` anyway, so a failure is logged, never the opener's error.
 */
export async function notifyDmOpened(
  deps: DmNoticeDeps,
  userId: string,
  room: DmOpenedFrame['room'],
): Promise<number> {
  try {
    const ids = await deps.devices.connectionsOf(userId, DM_NOTICE_MAX_DEVICES);
    const payload = JSON.stringify({ type: 'dmopened', room } satisfies DmOpenedFrame);
    const outcomes = await Promise.all(
      ids.map((id) => deps.notifier.post(id, payload).catch(() => 'failed')),
    );
    return outcomes.filter((o) => o === 'delivered').length;
  } catch (error) {
    logger.warn('direct-message notice not sent', { roomId: room.roomId, error: error as Error });
    return 0;
  }
}
