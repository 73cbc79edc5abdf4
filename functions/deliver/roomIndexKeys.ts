import { roomKeys } from '#core/aws/roomMembers';

/**
 * The keys of a room in the room index, the ones the fan-out Queries for its members (statemachines/fanout.asl.json,
 * the Map over a room's keys): every shard's `roomId#n` (docs/ARCHITECTURE.md, "Hot keys"). The template's
 * DefinitionSubstitutions name the index's table, index and key attribute.
 */
export function roomIndexKeys(roomId: string): string[] {
  return roomKeys(roomId);
}
