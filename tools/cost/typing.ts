// Cost of typing indicators (functions/typing): per heartbeat the server receives, at a given room size. A relayed
// heartbeat is one Lambda invocation that marks the connection, reads the room's members (at most TypingMaxMembers
// + 1 index entries) and posts the frame to every other member; no EventBridge, no Step Functions, nothing stored.
// A dropped one (within the interval, or above TypingMaxMembers) costs its inbound message, the frame count every
// frame pays, and the invocation. Pure arithmetic, priced with the model's own metering (tools/cost/metering.ts).

import { type Draft, gbSeconds, priceItems, roomMemberReadUnits, writeUnits } from './metering';
import type { PriceTable } from './prices';
import type { Assumptions, LineItem } from './types';

/** The template's typing settings (TypingIntervalSeconds, TypingMaxMembers) and the function's memory. */
export interface TypingSettings {
  intervalSeconds: number;
  maxMembers: number;
  memoryMb: number;
}

export interface TypingCost {
  roomSize: number;
  /** Typing frames posted per heartbeat: every other member, or none above TypingMaxMembers. */
  posts: number;
  items: LineItem[];
  /** USD per million heartbeats the server receives. */
  usdPerMillion: number;
  /** USD per hour one member spends typing (one heartbeat per interval). */
  usdPerTypingHour: number;
}

/** Billed ms of one relay: the two DynamoDB round trips (mark, members) and one round of concurrent posts. */
function relayMs(a: Assumptions, posts: number): number {
  return a.lambdaTaskOverheadMs + 2 * a.queryMs + (posts > 0 ? a.postLatencyMs : 0);
}

/** The line items of one million heartbeats received from members of rooms of `roomSize`, all relayed or dropped. */
export function typingCost(
  roomSize: number,
  settings: TypingSettings,
  a: Assumptions,
  prices: PriceTable,
): TypingCost {
  const M = 1e6;
  const relayed = roomSize <= settings.maxMembers;
  const posts = relayed ? roomSize - 1 : 0;
  const membersRead = Math.min(roomSize, settings.maxMembers + 1);
  const drafts: Draft[] = [
    { service: 'API Gateway', component: 'typing frames in', quantity: M, priceId: 'apigwWsMessages' },
    {
      service: 'API Gateway',
      component: 'typing frames posted',
      quantity: M * posts,
      priceId: 'apigwWsMessages',
    },
    { service: 'Lambda', component: 'Typing requests', quantity: M, priceId: 'lambdaRequests' },
    {
      service: 'Lambda',
      component: 'Typing duration',
      quantity: M * gbSeconds(relayMs(a, posts), settings.memoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'DynamoDB',
      component: 'frame count and typing mark',
      quantity: M * 2 * writeUnits(a.connectionItemBytes),
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: 'members read (bounded)',
      quantity: M * roomMemberReadUnits(membersRead, a, roomSize),
      priceId: 'dynamoReadRequestUnits',
    },
  ];
  const items = priceItems(drafts, prices);
  const usdPerMillion = items.reduce((sum, i) => sum + i.usd, 0);
  const perHour = 3600 / settings.intervalSeconds;
  return { roomSize, posts, items, usdPerMillion, usdPerTypingHour: (usdPerMillion / M) * perHour };
}

/** The rows `npm run cost` prints: rooms of 10, 100 and 1,000 members. */
export function typingTable(settings: TypingSettings, a: Assumptions, prices: PriceTable): string {
  const dec = (n: number, digits = 2) =>
    n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const rows = [10, 100, 1000].map((size) => {
    const c = typingCost(size, settings, a, prices);
    const posts = c.posts === 0 ? '0 (above TypingMaxMembers)' : String(c.posts);
    return `  ${String(size).padStart(7)}  ${posts.padStart(26)}  ${`$${dec(c.usdPerMillion)}`.padStart(11)}  ${`$${dec(c.usdPerTypingHour, 4)}`.padStart(13)}`;
  });
  return [
    `typing indicators: one heartbeat per member every ${settings.intervalSeconds} s while typing; rooms above ${settings.maxMembers} members relay none`,
    `  ${'members'.padStart(7)}  ${'posts/heartbeat'.padStart(26)}  ${'$/M heartbeats'.padStart(11)}  ${'$/typing hour'.padStart(13)}`,
    ...rows,
    '  (relayed by the typing route itself: no EventBridge, no Step Functions, nothing stored)',
    '',
  ].join('\n');
}
