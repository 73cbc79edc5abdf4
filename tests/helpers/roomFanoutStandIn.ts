import type { ChatEvent, ChatPorts } from '#core/ports';

/**
 * A stand-in for the room's fan-out in use-case tests without the state machine: a room's event that carries a frame
 * and no seq (a `Broadcast` with a room: an owner's notice, a room's change) is posted, when published, to the members
 * the room index lists, less those showing a name the room removed, read strongly consistent after the event, as
 * Prepare filters its Query (functions/deliver/prepare.ts removedFilter). Every event is kept in `published`.
 * tests/moderation/ownerFanout.test.ts runs the same notices through the real fan-out machine.
 */
export function roomFanoutStandIn(ports: Pick<ChatPorts, 'connections' | 'rooms' | 'notifier'>) {
  const published: ChatEvent[] = [];
  const publish = async (events: ChatEvent[]) => {
    published.push(...events);
    for (const event of events) {
      if (event.type !== 'Broadcast' || typeof event.roomId !== 'string' || event.seq !== undefined) continue;
      const room = await ports.rooms.get(event.roomId);
      const removed = room?.removedNames ?? new Set<string>();
      const { members } = await ports.connections.listMembers(event.roomId, Number.POSITIVE_INFINITY);
      // A close's members are moved out first, as each chunk of the fan-out moves them before its posts (deliver/post.ts).
      if (event.movesOut !== undefined)
        for (const m of members)
          await ports.connections.moveOutOf(m.connectionId, event.roomId, event.movesOut);
      for (const m of members)
        if (!removed.has(m.username)) await ports.notifier.post(m.connectionId, event.payload);
    }
  };
  return { events: { publish }, published };
}
