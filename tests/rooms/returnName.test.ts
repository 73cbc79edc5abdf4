import type { DepartureRecord } from '#core/identity/departure';
import type { Connection, Member, Room } from '#core/ports';
import { newcomerName } from '#rooms/joining';

/**
 * The name a person's new connection shows in a room its old one is listed in (functions/rooms/joining.ts,
 * sameMember): the old one's when it is live (and the room hears no join), and when it is gone but the person's
 * departure names the room under that name (a return whose old connection's $disconnect ran between the room's
 * listing and the join's reads); numbered only when the name is another member's.
 */

const NOW = new Date('2026-11-27T20:00:00Z');
const room: Room = { roomId: 'ROOMAAAA', createdAt: NOW.toISOString(), createdBy: 'olga', seq: 3 };
const sam = (connectionId: string, userId = 'user:sam'): Connection => ({
  connectionId,
  roomId: 'lobby',
  connectedAt: NOW.toISOString(),
  username: 'sam',
  chosenName: 'sam',
  userId,
});
const listed: Member[] = [
  { connectionId: 'OLGA', username: 'olga' },
  { connectionId: 'OLD', username: 'sam' },
];

function deps(live: Connection[], departure?: DepartureRecord) {
  const byId = new Map(live.map((c) => [c.connectionId, c]));
  return {
    connections: { get: async (id: string) => byId.get(id) } as never,
    now: () => NOW,
    departures: { latest: async () => departure },
  };
}

it("takes the name of the person's live connection in the room, and is present already", async () => {
  expect(await newcomerName(deps([sam('OLD')]), sam('NEW'), room, listed)).toEqual({
    name: 'sam',
    present: true,
  });
});

it("takes back the name a gone connection of the person's showed, when its departure names the room", async () => {
  const departure = {
    departureId: 'd-1',
    rooms: [{ roomId: room.roomId, username: 'sam' }],
    openUntil: NOW.getTime() + 1_000,
  };
  expect(await newcomerName(deps([], departure), sam('NEW'), room, listed)).toEqual({
    name: 'sam',
    present: false,
  });
});

it('numbers the name when the gone connection is not known as the joiner’s (no departure, or one settled or past its bound)', async () => {
  const rooms = [{ roomId: room.roomId, username: 'sam' }];
  const past = { departureId: 'd-1', rooms, openUntil: NOW.getTime() - 1 };
  const settled = { departureId: 'd-2', rooms, openUntil: NOW.getTime() + 1_000, settled: true };
  for (const departure of [undefined, past, settled])
    expect(await newcomerName(deps([], departure), sam('NEW'), room, listed)).toEqual({
      name: 'sam (2)',
      present: false,
    });
});

it('numbers the name another person shows, live, and is not present', async () => {
  const other = sam('OLD', 'user:another-sam');
  expect(await newcomerName(deps([other]), sam('NEW'), room, listed)).toEqual({
    name: 'sam (2)',
    present: false,
  });
});
