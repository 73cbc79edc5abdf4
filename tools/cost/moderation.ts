// What moderation costs per million (functions/moderation/moderation.ts, core/moderation.ts): the owner's and
// moderators' actions, each one conditional write to the room's item plus an audit row, and slow mode's turn on a member's message.
// A mute costs a send nothing: it is in the condition of the write that takes the seq.

import { pageReadUnits, writeUnits } from './metering';
import { METERING, PRICES, type PriceTable } from './prices';
import type { Assumptions } from './types';

export const MODERATION_ROOM_SIZES = [10, 100, 1000] as const;

/** Bytes of one moderation entry on the room's item (`mute#<16-character key>` = {until, name}; a ban's alike). */
export const MODERATION_ENTRY_BYTES = 60;
/** Entries a room is assumed to hold already (mutes, bans, moderators): the room's item grows by them. */
const ENTRIES_BEFORE = 10;
/** An audit row in the Sessions table (`#moderation#…` key, room, action, names, time, TTL), and its UsernameIndex copy. */
const AUDIT_ROW_BYTES = 300;
/** A slow-mode turn in the Limits table (`slow#<roomId>#<memberKey>`, turnAt, ttl). */
const TURN_ITEM_BYTES = 80;
/** A ban's transaction: the room's item and its 48 gates (core/aws/rooms.ts ROOM_GATES), each gate ~60 bytes. */
const GATES = 48;
const GATE_BYTES = 60;

export interface ModerationCostRow {
  action: string;
  /** USD per million, by room size (MODERATION_ROOM_SIZES). */
  usdPerMillion: number[];
  /** DynamoDB write units per action (the room size does not change them). */
  writeUnits: number;
}

const price = (prices: PriceTable, id: keyof typeof PRICES) => prices[id].tiers[0]?.usd ?? 0;

/**
 * Per-million cost of each moderation action and of slow mode's work on a message: the function's invocation, its
 * DynamoDB reads (the caller's room, strongly consistent; the room's member list, one eventually consistent page per
 * 4 KB) and writes (the room's item, the audit row and its index copy; a ban's transaction), and the posts: a role or
 * slow-mode change goes to every member, a mute to its member, every action's reply to its caller.
 */
export function moderationCosts(a: Assumptions, prices: PriceTable = PRICES): ModerationCostRow[] {
  const room = a.roomItemBytes + ENTRIES_BEFORE * MODERATION_ENTRY_BYTES;
  const wcu = price(prices, 'dynamoWriteRequestUnits');
  const rcu = price(prices, 'dynamoReadRequestUnits');
  const post = price(prices, 'apigwWsMessages');
  const invoke = price(prices, 'lambdaRequests');
  const audit = 2 * writeUnits(AUDIT_ROW_BYTES);
  const action = (name: string, writes: number, posts: (members: number) => number): ModerationCostRow => ({
    action: name,
    writeUnits: writes,
    usdPerMillion: MODERATION_ROOM_SIZES.map((members) => {
      const reads = pageReadUnits(room, false) + pageReadUnits(members * a.roomIndexItemBytes);
      // The request frame and the reply are two messages; the posts besides them one each.
      return 1e6 * (invoke + writes * wcu + reads * rcu + (2 + posts(members)) * post);
    }),
  });
  const roomWrite = writeUnits(room + MODERATION_ENTRY_BYTES);
  const banWrites =
    METERING.transactionalWriteFactor *
    (writeUnits(room + MODERATION_ENTRY_BYTES) + GATES * writeUnits(GATE_BYTES));
  return [
    action('setrole or slowmode', roomWrite + audit, (members) => members - 1),
    action('mute or unmute', roomWrite + audit, () => 1),
    // removemember's work (the key rotated with every gate, the member moved, every other member given the key).
    action('ban', banWrites + audit + 1, (members) => members),
    {
      action: 'slow mode: a message taken',
      writeUnits: writeUnits(TURN_ITEM_BYTES),
      usdPerMillion: MODERATION_ROOM_SIZES.map(() => 1e6 * writeUnits(TURN_ITEM_BYTES) * wcu),
    },
    {
      // The seq taken, the turn refused (a refused condition is billed as a write) and the seq's gap marker.
      action: 'slow mode: a message refused',
      writeUnits: writeUnits(room) + 2 * writeUnits(TURN_ITEM_BYTES),
      usdPerMillion: MODERATION_ROOM_SIZES.map(
        () => 1e6 * (invoke + (writeUnits(room) + 2 * writeUnits(TURN_ITEM_BYTES)) * wcu + 2 * post),
      ),
    },
  ];
}

export function renderModerationCosts(rows: ModerationCostRow[]): string {
  const money = (n: number) => `$${n.toFixed(2)}`;
  const head = `  ${'moderation'.padEnd(32)}${'WCU'.padStart(6)}${MODERATION_ROOM_SIZES.map((n) => `room of ${n}`.padStart(16)).join('')}`;
  const lines = rows.map(
    (row) =>
      `  ${row.action.padEnd(32)}${String(row.writeUnits).padStart(6)}${row.usdPerMillion.map((usd) => money(usd).padStart(16)).join('')}`,
  );
  return [
    'moderation (roles, mutes, bans, slow mode): USD per million actions; slow mode per member message, over the message',
    head,
    ...lines,
    '',
  ].join('\n');
}
