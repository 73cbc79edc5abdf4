import { BadRequest } from '#core/errors';
import { connectionInfo } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { onFirstCall } from '#platform/onFirstCall';

const deps = onFirstCall(() => ({ connections: connectionStore(), notifier: notifier() }));

/**
 * $default: anything that is not a known action gets the connection's info and how to use the API. Text that is
 * not JSON at all (`test`, typed into wscat as the AWS tutorial does) gets the tutorial's answer in an error frame.
 */
export const handler = routeHandler(
  '$default',
  'connection',
  (frame) => connectionInfo(servedFrom(deps(), frame), frame.connectionId),
  {
    notJson: async (connectionId, admitted) => {
      const info = await connectionInfo(servedFrom(deps(), { connectionId, admitted }), connectionId);
      const tutorial = {
        ConnectedAt: info.connectedAt,
        Identity: { SourceIp: info.sourceIp, UserAgent: info.userAgent },
        LastActiveAt: info.lastActiveAt,
        connectionID: connectionId,
      };
      return new BadRequest(
        `Use the sendmessage route to send a message. Your info: ${JSON.stringify(tutorial)}`,
      );
    },
  },
);
