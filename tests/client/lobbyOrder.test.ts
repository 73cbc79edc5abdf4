import { LOBBY, type MessageFrame } from '#protocol';
import { RoomSession } from '../../client/session';
import type { SessionEvents } from '../../client/types';
import { fakeRequester } from '../helpers/fakeRequester';
import { messageFrame } from './messageFrame';

/**
 * Entering the lobby (every connect) hands the app the room first and its recent history after, as a join does: an
 * app shows a room's messages once it knows which room it is in, and would drop a backlog handed over before.
 */
const msg = (seq: number) => messageFrame(LOBBY, seq);

it("announces the lobby before handing over the lobby's history", async () => {
  const events: string[] = [];
  const s = new RoomSession(
    {
      request: fakeRequester(async () => ({ type: 'history', messages: [msg(7), msg(8)] })),
      emit: <K extends keyof SessionEvents>(event: K, value: SessionEvents[K]) => {
        if (event === 'room') events.push(`room ${(value as { roomId: string }).roomId}`);
        if (event === 'message') events.push(`message ${(value as MessageFrame).seq}`);
      },
    },
    { initialHistory: 50, lean: false },
  );
  await s.enterLobby();
  expect(events).toEqual([`room ${LOBBY}`, 'message 7', 'message 8']);
});
