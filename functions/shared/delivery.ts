import type { Notifier } from './ports';

/** Fan-out: what one Map iteration of the state machine does with its chunk of connections. */

export interface DeliveryReport {
  delivered: number;
  goneIds: string[];
  retryIds: string[];
  failedIds: string[];
}

/** Posts one payload to a chunk of connections at once; sorts them by what the management API answered. */
export async function postToConnections(
  notifier: Notifier,
  connectionIds: readonly string[],
  payload: string,
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, goneIds: [], retryIds: [], failedIds: [] };
  const outcomes = await Promise.all(connectionIds.map((id) => notifier.post(id, payload)));
  outcomes.forEach((outcome, i) => {
    const id = connectionIds[i] as string;
    if (outcome === 'delivered') report.delivered++;
    else if (outcome === 'gone') report.goneIds.push(id);
    else if (outcome === 'retry') report.retryIds.push(id);
    else report.failedIds.push(id);
  });
  return report;
}
