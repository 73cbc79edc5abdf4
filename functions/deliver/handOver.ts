import type { DynamoFanoutStore } from '../shared/adapters/dynamoFanout';
import { framesOf, type Group } from '../shared/coalescing';
import type { EventPublisher } from '../shared/ports';
import { logger, METRIC, MetricUnit, metrics } from '../shared/powertools';

/**
 * What a fan-out execution hands on instead of carrying it, so that its state stays the size of one page and its
 * time well inside Express's 5 minutes (docs/RELIABILITY.md, "Bounded state and time"): both go through the chat
 * bus, whose rule starts a fan-out execution for each.
 */

/**
 * A cycle's chunk whose members are owed a retry hands them to a repost execution of their own (FanoutRepost), run
 * without the lease, so neither the cycle's state nor its time grows with them. False when the bus refused it: the
 * caller then notes the members for a resync frame.
 */
export async function handOverOwed(
  publisher: EventPublisher,
  owed: { roomId: string; payload: string; payloadSeq: number; messageId: string; groups: Group[] },
): Promise<boolean> {
  try {
    await publisher.publish([
      {
        type: 'FanoutRepost',
        messageId: owed.messageId,
        roomId: owed.roomId,
        seq: owed.payloadSeq,
        payload: owed.payload,
        groups: owed.groups,
      },
    ]);
    return true;
  } catch (error) {
    logger.warn('owed posts not handed over; noted for a resync', { roomId: owed.roomId, error });
    return false;
  }
}

/**
 * A holder that ran past its hand-over time freed the lease with messages after its cursor: the execution of the
 * room's newest message is started again (FanoutHandOver, the MessageSent event's detail), so it claims the free lease
 * and delivers them, even when the room has gone quiet. Failing that, the lease is free and the room's next message
 * delivers them; the failure is counted.
 */
export async function startSuccessor(
  publisher: EventPublisher,
  store: DynamoFanoutStore,
  roomId: string,
  seq: number,
): Promise<void> {
  try {
    const [newest] = framesOf(roomId, await store.messages(roomId, seq - 1, seq));
    if (!newest) return;
    await publisher.publish([
      { type: 'FanoutHandOver', messageId: `${roomId}#${seq}`, roomId, seq, payload: newest.payload },
    ]);
  } catch (error) {
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
    logger.error('successor not started; the room waits for its next message', { roomId, seq, error });
  }
}
