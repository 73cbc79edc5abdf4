import { logger } from '#platform/powertools';
import type { Prepared } from './prepare';

/**
 * Settle: the fan-out execution's last step when a room was handed back (statemachines/fanout.asl.json,
 * HandBackRoom). A room whose read, Query or posts failed past their retries ends its Map iteration with its queue
 * records; the Rooms Map's result comes here as JSON text (States.JsonToString: Step Functions' JSONPath has no
 * flattening of arrays of arrays). The execution's output is Prepare's summary with those records added to
 * `batchItemFailures`, which the pipe leaves in the queue while it deletes the rest of the batch (EventBridge Pipes,
 * partial batch failures), so only the failed rooms are received again.
 */
export interface SettleInput {
  op: 'settle';
  summary: Prepared['summary'];
  /** The Rooms Map's result: one `{}` per room delivered, one HandBackRoom output per room handed back. */
  outcomes: string;
}

/** A room handed back, as HandBackRoom outputs it. */
interface HandedBack {
  roomId?: unknown;
  records?: unknown;
  error?: { Error?: unknown; Cause?: unknown };
}

export function settle(input: SettleInput): Prepared['summary'] {
  const outcomes = JSON.parse(input.outcomes) as HandedBack[];
  if (!Array.isArray(outcomes)) throw new TypeError('settle expects the Rooms Map result as a JSON array');
  const failed = new Set((input.summary.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  let rooms = 0;
  for (const outcome of outcomes) {
    if (!Array.isArray(outcome?.records)) continue;
    rooms++;
    for (const id of outcome.records) if (typeof id === 'string') failed.add(id);
    logger.warn('fan-out handed a room back: its records come again after the visibility timeout', {
      roomId: outcome.roomId,
      records: outcome.records.length,
      error: outcome.error?.Error,
      cause: typeof outcome.error?.Cause === 'string' ? outcome.error.Cause.slice(0, 500) : undefined,
    });
  }
  return {
    ...input.summary,
    rooms: input.summary.rooms - rooms,
    batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })),
  };
}
