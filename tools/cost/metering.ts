// Metering and pricing arithmetic the cost model uses: AWS's billing increments, volume tiers, and pricing a list
// of line items. Pure arithmetic: no I/O, no clock.

import { keyLevelFor, ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { METERING, type PriceId, type PriceTable, type Tier } from './prices';
import type { Design, DesignCost, LineItem } from './types';

/** Units billed when usage is metered in `increment`-sized steps (a 0-byte frame still bills one step). */
export function increments(bytes: number, increment: number): number {
  return Math.max(1, Math.ceil(bytes / increment));
}

/** Cost of `quantity` units under volume tiers (each tier's `upTo` is cumulative). */
export function tieredCost(quantity: number, tiers: readonly Tier[]): number {
  let usd = 0;
  let floor = 0;
  for (const tier of tiers) {
    if (quantity <= floor) break;
    const inTier = Math.min(quantity, tier.upTo) - floor;
    usd += inTier * tier.usd;
    floor = tier.upTo;
  }
  return usd;
}

/** Read units of one Query/Scan page: its bytes rounded up to 4 KB, halved for eventually consistent reads. */
export function pageReadUnits(bytes: number, eventuallyConsistent = true): number {
  const units = increments(bytes, METERING.dynamoReadUnitBytes);
  return eventuallyConsistent ? units / 2 : units;
}

/** The room index's keys a room can have, as the product has them: a reader that does not read a room's level Queries each. */
export { ROOM_INDEX_SHARDS };

/**
 * Read units of reading `items` index entries of `itemBytes` over `keys` keys of the room index (by default every key
 * a room can have): one Query page per key (eventually consistent, the minimum 0.5 RRU even when empty), `items`
 * spread evenly over the keys.
 */
export function shardedReadUnits(items: number, itemBytes: number, keys: number = ROOM_INDEX_SHARDS): number {
  let units = 0;
  for (let shard = 0; shard < keys; shard++) {
    const share = Math.floor(items / keys) + (shard < items % keys ? 1 : 0);
    units += pageReadUnits(share * itemBytes);
  }
  return units;
}

/**
 * Read units of a room-member reader (mentions, typing, markread's size read, who, seenby) that needs `items` entries
 * of a room of `roomSize`: the room's key level, one strongly consistent GetItem of the room's item of
 * `roomItemBytes` (none when the reader has it from a read it makes anyway: `levelRead: false`), and one Query page
 * per key of that level (core/aws/roomMembers.ts keyLevelFor) in turn, the room's entries spread evenly over them,
 * until it has `items` (a bounded reader stops there; `items` = `roomSize` reads every key of the level).
 */
export function roomMemberReadUnits(
  items: number,
  bytes: { roomIndexItemBytes: number; roomItemBytes: number },
  roomSize: number,
  levelRead = true,
): number {
  const keys = keyLevelFor(roomSize);
  let units = levelRead ? pageReadUnits(bytes.roomItemBytes, false) : 0;
  let left = Math.min(items, roomSize);
  for (let key = 0; key < keys && (key === 0 || left > 0); key++) {
    const onKey = Math.floor(roomSize / keys) + (key < roomSize % keys ? 1 : 0);
    const read = Math.min(left, onKey);
    units += pageReadUnits(read * bytes.roomIndexItemBytes);
    left -= read;
  }
  return units;
}

/** Read units of reading `items` items of `itemBytes` each through 1 MB pages (Scan, or Query with no Limit). */
export function pagedReadUnits(items: number, itemBytes: number, pageItemLimit = Number.POSITIVE_INFINITY) {
  const perPage = Math.max(1, Math.min(pageItemLimit, Math.floor(METERING.dynamoPageBytes / itemBytes)));
  const pages = Math.max(1, Math.ceil(items / perPage));
  let units = 0;
  for (let page = 0; page < pages; page++) {
    units += pageReadUnits(Math.min(perPage, items - page * perPage) * itemBytes);
  }
  return { units, pages };
}

/** Write units of writing one item of `bytes` (1 KB steps). */
export function writeUnits(bytes: number): number {
  return increments(bytes, METERING.dynamoWriteUnitBytes);
}

/** Billed GB-seconds of a run: `ms` and `memoryMb` already rounded to their billing steps by the caller. */
export function gbSeconds(ms: number, memoryMb: number): number {
  return (ms / 1000) * (memoryMb / 1024);
}

/** Express execution: duration rounded up to 100 ms, memory up to 64 MB. */
export function expressGbSeconds(ms: number, memoryMb: number): number {
  const billedMs = increments(ms, METERING.sfnBilledMs) * METERING.sfnBilledMs;
  const billedMb = increments(memoryMb, METERING.sfnBilledMb) * METERING.sfnBilledMb;
  return gbSeconds(billedMs, billedMb);
}

export type Draft = Omit<LineItem, 'usd' | 'unit'>;

/** Prices line items; lines sharing a tiered price are priced on their sum, then split by quantity. */
export function priceItems(drafts: Draft[], prices: PriceTable): LineItem[] {
  const totals = new Map<PriceId, number>();
  for (const d of drafts) totals.set(d.priceId, (totals.get(d.priceId) ?? 0) + d.quantity);
  return drafts.map((d) => {
    const total = totals.get(d.priceId) ?? 0;
    const price = prices[d.priceId];
    const usd = total === 0 ? 0 : (tieredCost(total, price.tiers) * d.quantity) / total;
    return { ...d, unit: price.unit, usd };
  });
}

export function design(
  id: Design,
  title: string,
  drafts: Draft[],
  messagesPerMonth: number,
  prices: PriceTable,
  notes: string[],
): DesignCost {
  const items = priceItems(drafts, prices);
  const totalUsd = items.reduce((sum, i) => sum + i.usd, 0);
  const usdPerMillionMessages = messagesPerMonth === 0 ? 0 : (totalUsd / messagesPerMonth) * 1e6;
  return { design: id, title, items, totalUsd, usdPerMillionMessages, notes };
}
