import { servedFrom } from '#core/limits/guard';
import { limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import {
  block,
  blockList,
  parseBlockId,
  parseOutcome,
  parsePage,
  parseReason,
  parseReportId,
  parseSeq,
  report,
  reports,
  resolveReport,
  unblock,
} from './safety';
import { safetyDeps } from './wiring';

/**
 * The safety routes (functions/safety/safety.ts). block, blocklist, report, reports and resolvereport act in a room
 * the caller follows (`roomId`, absent: the one it shows: scope `room`, core/websocket.ts); unblock in none.
 */

export const blockRoute = routeHandler('block', 'room', (frame) =>
  block(servedFrom(safetyDeps(), frame), frame.connectionId, parseSeq(frame.body.seq)),
);

export const unblockRoute = routeHandler('unblock', 'connection', (frame) =>
  unblock(safetyDeps(), frame.connectionId, parseBlockId(frame.body.blockId)),
);

export const blocklistRoute = routeHandler('blocklist', 'room', (frame) =>
  blockList(servedFrom(safetyDeps(), frame), frame.connectionId),
);

export const reportRoute = routeHandler('report', 'room', (frame) => {
  const seq = parseSeq(frame.body.seq);
  const reason = parseReason(frame.body.reason);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  // Per person: the signed-in user, else the source address (quotas.ts limitOwner), as sends are counted.
  const owner = limitOwner(frame.admitted?.userId, identity?.sourceIp);
  return report(servedFrom(safetyDeps(), frame), frame.connectionId, { seq, reason, owner });
});

export const reportsRoute = routeHandler('reports', 'room', (frame) =>
  reports(
    servedFrom(safetyDeps(), frame),
    frame.connectionId,
    parsePage(frame.body.limit, frame.body.before),
  ),
);

export const resolveReportRoute = routeHandler('resolvereport', 'room', (frame) => {
  const reportId = parseReportId(frame.body.reportId);
  const outcome = parseOutcome(frame.body.outcome);
  return resolveReport(servedFrom(safetyDeps(), frame), frame.connectionId, { reportId, outcome });
});
