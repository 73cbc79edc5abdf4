import { orBusy } from '#core/busy';
import { MessageNotFound } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type OtherDevices, tellOtherDevices } from '#core/identity/otherDevices';
import { memberKeyOf } from '#core/memberKeys';
import type { ChatPorts } from '#core/ports';
import { epochSeconds } from '#core/roomLife';
import type { ThreadReadFrame } from '#protocol';
import type { FollowedStore } from './followed';
import { follows, type ThreadStore } from './threads';

type ThreadReadDeps = Pick<ChatPorts, 'connections' | 'now'> & {
  threads: Pick<ThreadStore, 'root'>;
  followed: Pick<FollowedStore, 'follow'>;
  /** The person's other connections: their Threads view clears the thread's count at once (`threadread`). */
  otherDevices?: OtherDevices;
};

/**
 * `threadread`: the caller has seen every reply of a thread it follows in the room (its pane stayed open while they
 * arrived), so its Threads-view entry counts them read (docs/DECISIONS.md, "Threads view"), and the person's other
 * devices are told the same frame. Only a followed thread has an entry: marking another would list it, so it is
 * refused. One strongly consistent GetItem of the root, one UpdateItem of the entry, then the other devices.
 */
export async function markThreadRead(
  deps: ThreadReadDeps,
  connectionId: string,
  seq: number,
): Promise<ThreadReadFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  const now = deps.now();
  const root = await orBusy(deps.threads.root(roomId, seq, epochSeconds(now)), roomId);
  if (!root)
    throw new MessageNotFound(`There is no message ${seq} in this room: it has no thread to mark read.`);
  if (root.threadOf !== undefined)
    throw new BadRequest(
      `Message ${seq} is a reply in the thread of message ${root.threadOf}: mark that thread read (seq ${root.threadOf}).`,
    );
  if (!follows(root, connection))
    throw new BadRequest(
      `You don't follow the thread of message ${seq}: only a thread you follow is marked read.`,
    );
  const readCount = root.replyCount;
  await orBusy(deps.followed.follow(memberKeyOf(connection), roomId, seq, { readCount, now }), roomId);
  const frame: ThreadReadFrame = { type: 'threadread', roomId, seq, readCount };
  if (deps.otherDevices) await tellOtherDevices(deps.otherDevices, connection, frame);
  return frame;
}
