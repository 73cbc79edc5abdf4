// What push notifications cost (docs/DECISIONS.md, "Push notifications"): the push function runs once per chat message
// that can push (rule PushOnMessageRule matches `mayPush`: an `@`, a direct message, a thread reply; any other message
// invokes nothing), and a message that names someone not connected, or a direct message to them, adds the
// reads that find them, the coalescing turn and one push service request. Pure arithmetic from functions/push/
// notify.ts's reads and the price table; the Lambda durations are assumptions (a message that concerns nobody parses
// one frame; a push waits for the push service's answer), stated in the rows.

import { pageReadUnits } from './metering';
import { PRICES, type PriceTable } from './prices';

/** The push function's memory: the template's Globals MemorySize. */
const FUNCTION_MB = 256;
/** Duration of an invocation that pushes nothing (parse, maybe one read), and of one that waits for a push service. */
const QUIET_MS = 10;
const PUSH_MS = 300;
/** PeopleIndex shards read per distinct name after an `@` (functions/people/peopleKeys.ts). */
const PEOPLE_SHARDS = 12;

export interface PushCostRow {
  case: string;
  /** Pushes sent per such message (or burst). */
  pushes: number;
  usdPerMillion: number;
}

const lambdaUsd = (prices: PriceTable, ms: number) =>
  (prices.lambdaRequests.tiers[0]?.usd ?? 0) +
  (FUNCTION_MB / 1024) * (ms / 1000) * (prices.lambdaArmGbSeconds.tiers[0]?.usd ?? 0);

/** USD per million of each case; a burst of mentions is one push (PushCoalesceSeconds). */
export function pushCosts(prices: PriceTable = PRICES, burst = 10): PushCostRow[] {
  const read = prices.dynamoReadRequestUnits.tiers[0]?.usd ?? 0;
  const write = prices.dynamoWriteRequestUnits.tiers[0]?.usd ?? 0;
  const small = pageReadUnits(1);
  // One offline person named: the PeopleIndex shards, the user index, the subscriptions, the turn (1 WRU).
  const mentionReads = PEOPLE_SHARDS * small + small + small;
  const mention = lambdaUsd(prices, PUSH_MS) + mentionReads * read + write;
  // A direct message: the room's item instead of the PeopleIndex.
  const dm = lambdaUsd(prices, PUSH_MS) + 3 * small * read + write;
  // The rest of a burst within PushCoalesceSeconds: the same reads and a refused turn (a failed condition still
  // consumes its WRU), no push service request.
  const coalesced = lambdaUsd(prices, QUIET_MS) + mentionReads * read + write;
  return [
    { case: 'chat message that can push nobody (no @, no DM, no thread reply)', pushes: 0, usdPerMillion: 0 },
    {
      case: 'mention, DM or thread reply that concerns nobody offline',
      pushes: 0,
      usdPerMillion: lambdaUsd(prices, QUIET_MS) * 1e6,
    },
    { case: 'mention of one offline member', pushes: 1, usdPerMillion: mention * 1e6 },
    { case: 'direct message to an offline member', pushes: 1, usdPerMillion: dm * 1e6 },
    {
      case: `burst of ${burst} mentions (per burst)`,
      pushes: 1,
      usdPerMillion: (mention + (burst - 1) * coalesced) * 1e6,
    },
  ];
}

export function renderPushCosts(rows: PushCostRow[]): string {
  return [
    'push notifications (PushCoalesceSeconds: one push per person and room per interval): USD per million',
    `  ${'case'.padEnd(44)}${'pushes'.padStart(8)}${'USD/million'.padStart(14)}`,
    ...rows.map(
      (r) =>
        `  ${r.case.padEnd(44)}${String(r.pushes).padStart(8)}${`$${r.usdPerMillion.toFixed(2)}`.padStart(14)}`,
    ),
    `  (Lambda ${QUIET_MS} ms without a push, ${PUSH_MS} ms with one, ${FUNCTION_MB} MB arm64: assumptions)`,
    '',
  ].join('\n');
}
