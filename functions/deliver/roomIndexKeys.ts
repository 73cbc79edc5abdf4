import { roomKeys } from '#core/aws/roomMembers';

/**
 * The keys of a room in the room index, the ones the fan-out Queries for its members (statemachines/fanout.asl.json,
 * the Map over a room's keys): `roomId#0` … `roomId#<level − 1>`, `level` the room's key level read with its head
 * (roomLog.ts), the lobby's always the full 12 (docs/ARCHITECTURE.md, "Hot keys"). The level only grows, so every
 * subscription written at a lower one is under one of these keys. The template's DefinitionSubstitutions name the
 * index's table, index and key attribute.
 */
export function roomIndexKeys(roomId: string, keyLevel: number): string[] {
  return roomKeys(roomId, keyLevel);
}
