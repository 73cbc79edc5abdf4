// What an image attachment costs per million, at rooms of 10, 100 and 1,000 (docs/COST.md, "Attachments"): the
// message that carries it (a message's cost from the same model), plus what the image adds:
// - asking for the upload: an `attach` frame and its reply, one invocation of the attachments function, the frame
//   count's and the quota's writes (one write unit each);
// - the upload: one S3 PUT-class request (the presigned POST);
// - the send: one HeadObject (a GET-class request) and the attachment's bytes on the message's item;
// - each member's view: a `getattachment` frame and reply, an invocation and the frame count's write, one presigned
//   GET (a GET-class request) and the image's bytes out to the internet;
// - storage: the image for MessageRetentionDays (the bucket's lifecycle rule).
// The image's bytes never pass through Lambda or API Gateway.

import { CHANGE_ROOM_SIZES, messageCosts } from './changes';
import { gbSeconds, writeUnits } from './metering';
import { PRICES, type PriceTable } from './prices';
import type { Assumptions } from './types';

export interface AttachmentWorkload {
  /** Bytes of one image. */
  imageBytes: number;
  /** Times each member of the room opens it (the sender included): each is a presigned GET and a transfer. */
  viewsPerMember: number;
}

export const DEFAULT_ATTACHMENT: AttachmentWorkload = { imageBytes: 200 * 1024, viewsPerMember: 1 };

/** Billed ms of one `attach`: the frame count's and the quota's conditional writes, then signing (no network). */
export const ATTACH_MS = 25;
/** Billed ms of one `getattachment`: the frame count's write, then signing a URL. */
export const GET_ATTACHMENT_MS = 12;
/** Bytes one attachment adds to its message's item: key, type, size, width and height. */
export const ATTACHMENT_ITEM_BYTES = 110;

export interface AttachmentCostRow {
  roomSize: number;
  /** USD per million attachments, each sent in one message of its own. */
  usdPerMillion: number;
  /** Of which S3 (requests and storage) and transfer out. */
  s3UsdPerMillion: number;
  transferUsdPerMillion: number;
}

const first = (prices: PriceTable, id: keyof PriceTable) => prices[id].tiers[0]?.usd ?? 0;

/** One two-way route frame: its inbound message and reply, an invocation, its log lines and the frame count. */
function routeFrameUsd(a: Assumptions, prices: PriceTable, ms: number, extraWrites: number): number {
  return (
    2 * first(prices, 'apigwWsMessages') +
    first(prices, 'lambdaRequests') +
    gbSeconds(ms, a.sendMessageMemoryMb) * first(prices, 'lambdaArmGbSeconds') +
    (a.logBytesPerInvocation / 1e9) * first(prices, 'cloudwatchLogsIngestedGb') +
    (1 + extraWrites) * first(prices, 'dynamoWriteRequestUnits')
  );
}

/** USD per million attachments, in a quiet room of each CHANGE_ROOM_SIZES size. */
export function attachmentCosts(
  a: Assumptions,
  prices: PriceTable = PRICES,
  workload: AttachmentWorkload = DEFAULT_ATTACHMENT,
  messageBytes = 200,
): AttachmentCostRow[] {
  const gb = workload.imageBytes / 1024 ** 3;
  const messages = messageCosts(a, prices, messageBytes);
  return CHANGE_ROOM_SIZES.map((roomSize, i) => {
    // A message's own cost per message (tools/cost/changes.ts: the month's fixed lines left out).
    const messageUsd = (messages[i]?.usd ?? 0) / 1e6;
    const itemBytes = a.messageItemOverheadBytes + messageBytes;
    const extraItemWrites = writeUnits(itemBytes + ATTACHMENT_ITEM_BYTES) - writeUnits(itemBytes);
    const views = roomSize * workload.viewsPerMember;
    const s3 =
      first(prices, 's3PutRequests') +
      first(prices, 's3GetRequests') * (1 + views) +
      gb * (a.messageRetentionDays / 30) * first(prices, 's3StorageGbMonth');
    const transfer = views * gb * first(prices, 'dataTransferOutGb');
    const frames =
      routeFrameUsd(a, prices, ATTACH_MS, 1) +
      views * routeFrameUsd(a, prices, GET_ATTACHMENT_MS, 0) +
      extraItemWrites * first(prices, 'dynamoWriteRequestUnits');
    return {
      roomSize,
      usdPerMillion: (messageUsd + s3 + transfer + frames) * 1e6,
      s3UsdPerMillion: s3 * 1e6,
      transferUsdPerMillion: transfer * 1e6,
    };
  });
}

export function renderAttachmentCosts(rows: AttachmentCostRow[], workload: AttachmentWorkload): string {
  const money = (n: number) => `$${n.toFixed(2)}`;
  const line = (label: string, pick: (r: AttachmentCostRow) => number) =>
    `  ${label.padEnd(32)}${rows.map((r) => money(pick(r)).padStart(16)).join('')}`;
  return [
    `attachments: USD per million images of ${Math.round(workload.imageBytes / 1024)} KB, each in a message of its own and opened ${workload.viewsPerMember}x by every member (S3 requests, storage for MessageRetentionDays, transfer out)`,
    `  ${''.padEnd(32)}${rows.map((r) => `room of ${r.roomSize}`.padStart(16)).join('')}`,
    line('message with one image', (r) => r.usdPerMillion),
    line('  of which S3', (r) => r.s3UsdPerMillion),
    line('  of which transfer out', (r) => r.transferUsdPerMillion),
    '',
  ].join('\n');
}
