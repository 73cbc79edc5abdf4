import { servedFrom } from '#core/limits/guard';
import { admitLobbyPost } from '#core/lobby';
import { parseClientMsgId } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { parseChangeRequest, parseTargetSeq } from './changeParse';
import { changeMessage } from './changing';
import { lobbyGate, withSendSettings } from './sendSettings';
import { changeStore, reactionStore, sendStore } from './wiring';

const deps = onFirstCall(() =>
  withSendSettings({
    connections: connectionStore(),
    rooms: roomStore(),
    sends: sendStore(),
    changes: changeStore(),
    reactions: reactionStore(),
    events: eventPublisher(),
    now: systemClock,
    // A runtime setting, so a getter: read from the settings document on every invocation (platform/settings.ts).
    get editWindowMinutes() {
      return config.editWindowMinutes();
    },
  }),
);

/**
 * editmessage, deletemessage and react: one entry point each, built alike: parse, store the change as a room event
 * (changes/changing.ts), reply `changed`.
 */
function changeRoute(action: 'editmessage' | 'deletemessage' | 'react') {
  return routeHandler(action, async (frame) => {
    const { connectionId, body, signal, event, deadline } = frame;
    const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
    const seq = parseTargetSeq(body);
    const request = parseChangeRequest(action, body);
    const changed = await changeMessage(servedFrom(deps(), frame), {
      connectionId,
      seq,
      request,
      clientMsgId: parseClientMsgId(body.clientMsgId),
      signal,
      deadline,
      admitLobbyPost: () => admitLobbyPost(lobbyGate(), identity?.sourceIp),
    });
    logger.info('message changed', {
      roomId: changed.roomId,
      targetSeq: seq,
      seq: changed.seq,
      kind: request.kind,
    });
    return changed;
  });
}

export const editmessage = changeRoute('editmessage');
export const deletemessage = changeRoute('deletemessage');
export const react = changeRoute('react');
