// What blocking, reporting and the word filter cost per action (docs/DECISIONS.md, "Blocking, reports and the word
// filter"): the requests each makes, as functions/safety/ and the messages function make them, priced at first-tier
// rates. Pure arithmetic.
import { PRICES, type PriceTable } from './prices';

/** One action's requests: DynamoDB units, WebSocket messages (a frame in, its reply, any post) and invocations. */
export interface SafetyAction {
  action: string;
  writeUnits: number;
  readUnits: number;
  wsMessages: number;
  invocations: number;
}

/**
 * The Sessions table's UsernameIndex projects every attribute, so each moderation item is written twice, to the table
 * and to the index (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html).
 */
const INDEXED = 2;
/** A frame's count on its connection (guard.ts): every route's first write. */
const FRAME_COUNT = 1;
/** A safety route's run, assumed 50 ms at 256 MB (Globals): one to three DynamoDB round trips. */
const ROUTE_MS = 50;

export const SAFETY_ACTIONS: SafetyAction[] = [
  // GetItem of the message (strongly consistent, ≤ 4 KB), Query of the list (a few items, eventually consistent),
  // the list item, and between signed-in users the pair's blocks item.
  { action: 'block', writeUnits: FRAME_COUNT + 1 + 1, readUnits: 1 + 0.5, wsMessages: 2, invocations: 1 },
  // Query of the list: each room entered once (the hidden keys are per room).
  {
    action: 'blocklist (per room entered)',
    writeUnits: FRAME_COUNT,
    readUnits: 0.5,
    wsMessages: 2,
    invocations: 1,
  },
  // The message and the room (GetItems), the report bucket, the report with its evidence (≤ 2 KB: 2 WCU) and its
  // audit row (1 WCU), both indexed; the owner's devices (one index Query) and one post to the owner.
  {
    action: 'report',
    writeUnits: FRAME_COUNT + 1 + INDEXED * (2 + 1),
    readUnits: 1 + 1 + 0.5,
    wsMessages: 3,
    invocations: 1,
  },
  // Over the message's own cost: its audit row, indexed.
  {
    action: 'filtered message (masked), extra',
    writeUnits: INDEXED * 1,
    readUnits: 0,
    wsMessages: 0,
    invocations: 0,
  },
  // Refused: the frame's count and the audit row; nothing stored, nothing fanned out.
  {
    action: 'filtered message (refused)',
    writeUnits: FRAME_COUNT + INDEXED * 1,
    readUnits: 0,
    wsMessages: 2,
    invocations: 1,
  },
  // Over a direct message's own cost: the pair's blocks item, one strongly consistent GetItem.
  { action: 'direct message send, extra', writeUnits: 0, readUnits: 1, wsMessages: 0, invocations: 0 },
  // Over a report's own cost in a room with moderators, 2 of them online in a room of 50: the room index (one Query,
  // ~8 KB: 1 RCU), the connections showing a moderator's name (2 GetItems), and 2 posts.
  {
    action: 'report, extra for 2 moderators online',
    writeUnits: 0,
    readUnits: 1 + 2,
    wsMessages: 2,
    invocations: 0,
  },
  // reports: the room (GetItem, the caller's role) and a page of 50 open reports from the index (≤ 2 KB each,
  // ~100 KB eventually consistent: 13 RCU).
  {
    action: 'reports (a page of 50)',
    writeUnits: FRAME_COUNT,
    readUnits: 1 + 13,
    wsMessages: 2,
    invocations: 1,
  },
  // resolvereport: the room and the report (GetItems); the report moved to `#resolved#` (2 WCU, and its index entry
  // deleted and put again: 2 × 2) and its audit row, indexed; the staff's notice as a report's (owner's devices, the
  // room index and 2 moderators): 3 posts.
  {
    action: 'resolvereport (2 moderators online)',
    writeUnits: FRAME_COUNT + 2 + 2 * 2 + INDEXED * 1,
    readUnits: 1 + 1 + 0.5 + 1 + 2,
    wsMessages: 2 + 3,
    invocations: 1,
  },
];

const first = (prices: PriceTable, id: keyof PriceTable) => prices[id].tiers[0]?.usd ?? 0;

/** USD per million of each action. */
export function safetyCosts(prices: PriceTable = PRICES): { action: string; usdPerMillion: number }[] {
  const gbSeconds = (ROUTE_MS / 1000) * (256 / 1024);
  return SAFETY_ACTIONS.map((a) => ({
    action: a.action,
    usdPerMillion:
      1e6 *
      (a.writeUnits * first(prices, 'dynamoWriteRequestUnits') +
        a.readUnits * first(prices, 'dynamoReadRequestUnits') +
        a.wsMessages * first(prices, 'apigwWsMessages') +
        a.invocations * (first(prices, 'lambdaRequests') + gbSeconds * first(prices, 'lambdaArmGbSeconds'))),
  }));
}

export function renderSafetyCosts(rows: { action: string; usdPerMillion: number }[]): string {
  return [
    'blocking, reports and the word filter: USD per million actions',
    ...rows.map((r) => `  ${r.action.padEnd(40)}${`$${r.usdPerMillion.toFixed(2)}`.padStart(12)}`),
    '',
  ].join('\n');
}
