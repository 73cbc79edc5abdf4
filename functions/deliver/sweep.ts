import type { DynamoFanoutStore } from '../domain/fanout/dynamoFanout';
import type { DynamoLeaseSweep } from '../domain/fanout/leaseSweep';
import type { EventPublisher } from '../domain/ports';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import { restartAfterFailure } from './handOver';

export interface SweepDeps {
  sweep: DynamoLeaseSweep;
  store: DynamoFanoutStore;
  publisher: EventPublisher;
  now: () => number;
}

/**
 * The scheduled sweep (template.yaml, SweepStrandedRooms: every minute). A lease holder that died without its Catch
 * seeing it (a crash, Express's 5-minute stop) leaves its lease until it expires; the messages whose executions
 * coalesced meanwhile, and its own cycle, would wait for the room's next message. The sweep frees each expired
 * lease (its cursor back to the cycle's start) and starts a successor for the room's newest message, so they are
 * delivered live within a minute of the lease's expiry though the room went quiet. A failure that outlasts the
 * successor leaves the room to the next sweep, up to MAX_RESTARTS successors per newest event (restarts.ts). With
 * nothing stranded it costs one Query per index shard and nothing else.
 */
export async function sweepStrandedRooms(given: SweepDeps): Promise<{ recovered: number }> {
  const now = given.now();
  let recovered = 0;
  for (const { roomId, leaseUntil } of await given.sweep.expired(now)) {
    try {
      const restart = await given.sweep.recover(roomId, leaseUntil, now);
      if (restart === undefined || !(await restartAfterFailure(given, roomId, restart))) continue;
      recovered++;
      logger.warn('stranded room recovered: its expired lease freed and a successor started', {
        roomId,
        ...restart,
      });
    } catch (error) {
      logger.error('stranded room left for the next sweep', { roomId, error });
    }
  }
  metrics.addMetric(METRIC.strandedRoomsRecovered, MetricUnit.Count, recovered);
  return { recovered };
}
