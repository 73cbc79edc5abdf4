import { lobbyClosed, lobbyUnlisted } from '#core/lobby';
import type { Connection } from '#core/ports';
import { joinRoom } from '#rooms/joining';
import { who } from '#rooms/rooms';
import { connectionStore, templateTables } from '../helpers/templateTables';

/**
 * Who the lobby lists, per LobbyPolicy: everyone connected where the lobby is open; the asker alone where members
 * cannot talk there (broadcasts), so a `who` or a join of the lobby harvests no names; nobody where there is none.
 */

const tables = templateTables();

let n = 0;

async function lobbyOf(names: string[]) {
  const connections = connectionStore(tables);
  const members: Connection[] = [];
  for (const name of names) {
    const connection: Connection = {
      connectionId: `lobby${++n}-${name}`,
      roomId: 'lobby',
      username: name,
      chosenName: name,
      connectedAt: '2026-11-22T12:00:00.000Z',
    };
    await connections.put(connection);
    members.push(connection);
  }
  const deps = {
    connections,
    rooms: { get: async () => undefined },
    messages: { after: async () => [], latest: async () => [] },
    events: { publish: async () => undefined },
    now: () => new Date('2026-11-22T12:00:00.000Z'),
  } as unknown as Parameters<typeof joinRoom>[0];
  return { deps, members };
}

const options = (policy: 'open' | 'broadcasts' | 'off') => ({
  noLobby: lobbyClosed(policy),
  lobbyUnlisted: lobbyUnlisted(policy),
});

describe("the lobby's member list", () => {
  it('lists everyone connected where the lobby is open', async () => {
    const { deps, members } = await lobbyOf(['ann', 'ben', 'cy']);
    const [ann] = members as [Connection];
    const listed = await who(deps, ann.connectionId, options('open'));
    expect(listed.members).toEqual(expect.arrayContaining(['ann', 'ben', 'cy']));
    expect(listed.memberCount).toBeGreaterThanOrEqual(3);
  });

  it('lists the asker alone under LobbyPolicy=broadcasts, in who and in a join of the lobby', async () => {
    const { deps, members } = await lobbyOf(['dee', 'eve', 'fay']);
    const [dee, eve] = members as [Connection, Connection];
    expect(await who(deps, dee.connectionId, options('broadcasts'))).toEqual({
      type: 'members',
      roomId: 'lobby',
      members: ['dee'],
      memberCount: 1,
    });
    const joined = await joinRoom(deps, eve.connectionId, 'lobby', options('broadcasts'));
    expect(joined).toMatchObject({ roomId: 'lobby', members: ['eve'], memberCount: 1 });
  });

  it('lists nobody under LobbyPolicy=off, where the lobby is no room', async () => {
    const { deps, members } = await lobbyOf(['gus', 'hal']);
    const [gus] = members as [Connection];
    expect(await who(deps, gus.connectionId, options('off'))).toMatchObject({ members: [], memberCount: 0 });
  });
});
