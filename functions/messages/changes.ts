import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { limitSettings } from '#core/limits/limitSettings';
import { admitLobbyPost } from '#core/lobby';
import type { Connection } from '#core/ports';
import { parseClientMsgId } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { personGate } from '#core/wiring/guard';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { CHANGE_ACTIONS, type ChangeAction } from '#protocol';
import { moderationRecords } from '#safety/auditWiring';
import { admitDirectSend, screenText } from '#safety/screening';
import { dmBlocks } from '#safety/wiring';
import { changeHooks } from './changeFeatures';
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
      return settings().EditWindowMinutes;
    },
    person: personGate(),
    changeHooks: changeHooks(),
    get reactionKindsPerSource() {
      return limitSettings.reactionKindsPerSource();
    },
    admitDirect: (changer: Connection) => admitDirectSend(blocks(), changer),
    // A moderator's delete, a pin or an unpin goes on the room's moderation log (changeAudit.ts).
    audit: auditModeration,
  }),
);
const blocks = onFirstCall(dmBlocks);

const audit = onFirstCall(moderationRecords);

/**
 * Each change action (editmessage, deletemessage, react): one entry point each, built alike: parse by its kind
 * (changeKinds/), store the change as a room event (changing.ts), reply `changed`.
 */
function changeRoute(action: ChangeAction) {
  return routeHandler(action, 'room', async (frame) => {
    const { connectionId, body, signal, event } = frame;
    const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
    const seq = parseTargetSeq(body);
    const parsed = parseChangeRequest(action, body);
    // An edit's new text goes through the word filter as a message's does (sendmessage.ts).
    const request =
      parsed.kind === 'edit'
        ? {
            ...parsed,
            text: await screenText(
              parsed.text,
              { words: settings().FilterWords, mode: settings().FilterMode },
              () => (frame.admitted ? Promise.resolve(frame.admitted) : connectionStore().get(connectionId)),
              audit,
              systemClock(),
            ),
          }
        : parsed;
    const changed = await changeMessage(servedFrom(deps(), frame), {
      connectionId,
      seq,
      request,
      clientMsgId: parseClientMsgId(body.clientMsgId),
      signal,
      admitLobbyPost: () => admitLobbyPost(lobbyGate(), identity?.sourceIp),
      sourceIp: identity?.sourceIp,
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
 * A route per change action, from the protocol's list (protocol/changes.ts CHANGE_ACTIONS): a new change kind
 * (pinmessage, say) is served once the protocol names it and its module is in changeKinds/index.ts (tsc refuses the
 * registry until then), with no line here or in index.ts. An action with no kind is a BAD_REQUEST, never a crash.
 */
export const changeRoutes = CHANGE_ACTIONS.map(changeRoute);
