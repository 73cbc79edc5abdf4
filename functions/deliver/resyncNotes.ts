import type { Cycle } from '../domain/fanout/coalescing';
import type { DynamoFanoutStore } from '../domain/fanout/dynamoFanout';
import { logger } from '../platform/powertools';

/**
 * A room's item keeps a resync note until the member's next confirmed post, which never comes for a member who left:
 * a cycle that carries more than this many notes checks them, and drops those of connections no longer in the room
 * (one BatchGet per 100), so neither the room's item nor the cycle's state grows with departed members.
 */
const NOTES_CHECKED_ABOVE = 20;

/** The cycle with the notes of departed members dropped, from the room's item too; on failure, as it was. */
export async function withoutDepartedNotes(
  store: DynamoFanoutStore,
  roomId: string,
  cycle: Cycle,
): Promise<Cycle> {
  const noted = Object.keys(cycle.resync);
  if (noted.length <= NOTES_CHECKED_ABOVE) return cycle;
  try {
    const inRoom = await store.stillIn(roomId, noted);
    const departed = noted.filter((id) => !inRoom.has(id));
    if (departed.length === 0) return cycle;
    await store.forgetResync(roomId, departed);
    return {
      ...cycle,
      resync: Object.fromEntries(Object.entries(cycle.resync).filter(([id]) => inRoom.has(id))),
    };
  } catch (error) {
    logger.warn('resync notes of departed members kept', { roomId, error });
    return cycle;
  }
}
