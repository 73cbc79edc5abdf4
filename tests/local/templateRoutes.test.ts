import { join } from 'node:path';
import { ACTIONS, ONE_WAY_ACTIONS } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';

/** The WebSocket API the local gateway builds from the real template.yaml: every route, its function and reply. */
const TEMPLATE = join(__dirname, '..', '..', 'template.yaml');

describe('the real template.yaml', () => {
  const t = loadTemplate(TEMPLATE);

  it('finds the WebSocket API with a route per action of the protocol, their functions, two-way routes and the MOCK ping', () => {
    const [api, ...others] = t.webSocketApis();
    expect(others).toHaveLength(0);
    expect(api).toMatchObject({
      logicalId: 'WebSocketApi',
      id: 'localwebsocketapi',
      routeSelectionExpression: '$request.body.action',
      stageName: 'prod',
      stageThrottling: { rateLimit: 500, burstLimit: 1000 },
    });
    const routes = Object.fromEntries((api?.routes ?? []).map((r) => [r.routeKey, r]));
    // Every action of the protocol (answered or one-way) is a route of the template (a route added to protocol/index.ts's ACTIONS and
    // template.yaml needs no edit here), besides the three the gateway itself names.
    expect(Object.keys(routes).sort()).toEqual(
      ['$connect', '$default', '$disconnect', ...ACTIONS, ...ONE_WAY_ACTIONS].sort(),
    );
    // One function per feature, each route told apart by its route key (functions/core/features.ts).
    expect(routes.$connect).toMatchObject({ functionLogicalId: 'ConnectionFunction', twoWay: false });
    expect(routes.$disconnect).toMatchObject({ functionLogicalId: 'ConnectionFunction', twoWay: false });
    expect(routes.$default).toMatchObject({ functionLogicalId: 'ConnectionFunction', twoWay: true });
    for (const key of ['sendmessage', 'history', 'editmessage', 'deletemessage', 'react'])
      expect(routes[key]).toMatchObject({ functionLogicalId: 'MessagesFunction', twoWay: true });
    for (const key of [
      'createroom',
      'joinroom',
      'leaveroom',
      'subscribe',
      'closeroom',
      'removemember',
      'rotatekey',
      'myrooms',
      'who',
    ])
      expect(routes[key]).toMatchObject({ functionLogicalId: 'RoomsFunction', twoWay: true });
    for (const key of ['findpeople', 'opendm'])
      expect(routes[key]).toMatchObject({ functionLogicalId: 'PeopleFunction', twoWay: true });
    for (const key of ['markread', 'seenby'])
      expect(routes[key]).toMatchObject({ functionLogicalId: 'ReadingFunction', twoWay: true });
    // One function signs uploads and reads of attachments.
    for (const key of ['attach', 'getattachment'])
      expect(routes[key]).toMatchObject({ functionLogicalId: 'AttachmentsFunction', twoWay: true });
    // A heartbeat gets no reply: a route without a route response.
    expect(routes.typing).toMatchObject({ functionLogicalId: 'TypingFunction', twoWay: false });
    // The keepalive is answered by API Gateway itself: no function, the integration response's template as reply.
    expect(routes.ping).toEqual({
      routeKey: 'ping',
      twoWay: true,
      mockResponse: '{"type":"pong"}',
      operationName: 'Ping',
    });
  });
});
