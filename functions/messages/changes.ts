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
import { ACTIONS, type Action, REPLY_TYPE } from '#protocol';
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

/** The actions whose reply is `changed` (protocol/index.ts REPLY_TYPE): each one is a change to a message. */
type ChangeAction = { [A in Action]: (typeof REPLY_TYPE)[A] extends 'changed' ? A : never }[Action];
const CHANGE_ACTIONS = ACTIONS.filter((action): action is ChangeAction => REPLY_TYPE[action] === 'changed');

/**
 * editmessage, deletemessage and react: one entry point each, built alike: parse, store the change as a room event
 * (changing.ts), reply `changed`.
 */
function changeRoute(action: ChangeAction) {
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

/**
 * A route per change action, from the protocol's list: a new change kind (pinmessage, say) is served once protocol/
 * names it with the reply `changed`, with no line here or in index.ts. changeParse.ts refuses an action it has no
 * rule for, so a kind named in the protocol but not yet written is a BAD_REQUEST, never a crash.
 */
export const changeRoutes: Record<ChangeAction, ReturnType<typeof changeRoute>> = Object.fromEntries(
  CHANGE_ACTIONS.map((action) => [action, changeRoute(action)]),
) as Record<ChangeAction, ReturnType<typeof changeRoute>>;
