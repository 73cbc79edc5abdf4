import { featureHandler } from '#core/features';
import { requireConnection } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { connectionStore, quotaStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { readAttachment, requestUpload } from './attachments';
import { S3AttachmentBucket } from './s3Bucket';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  bucket: new S3AttachmentBucket(),
  quota: quotaStore(),
  // Runtime setting AttachmentsPerDay (platform/settings.ts), read on every call: uploads per owner per day.
  get perDay() {
    return settings().AttachmentsPerDay;
  },
  now: systemClock,
}));

/**
 * attach and getattachment (functions/attachments/attachments.ts). A frame naming a room (`roomId`) acts in
 * it when the connection follows it, and is refused NOT_SUBSCRIBED before this runs otherwise (core/websocket.ts,
 * RouteScope `room`).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [
  routeHandler('attach', 'room', async (frame) => {
    const served = servedFrom(deps(), frame);
    const connection = await requireConnection(served, frame.connectionId);
    // The owner of the quota: the signed-in user, else the source address (quotas.ts limitOwner).
    const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
    const upload = await requestUpload(
      served,
      connection,
      limitOwner(connection.userId, identity?.sourceIp),
      {
        contentType: frame.body.contentType,
        size: frame.body.size,
        name: frame.body.name,
        purpose: frame.body.purpose,
      },
    );
    logger.info('upload signed', { roomId: upload.roomId, key: upload.key, bytes: upload.maxBytes });
    return upload;
  }),
  routeHandler('getattachment', 'room', async (frame) => {
    const served = servedFrom(deps(), frame);
    const connection = await requireConnection(served, frame.connectionId);
    return readAttachment(served, connection, frame.body.key, frame.body.versionId);
  }),
];

/** One function for both routes, routed by the route key API Gateway names (core/features.ts). */
export const handler = featureHandler('attachments', routes);
