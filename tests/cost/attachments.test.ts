import { attachmentCosts, DEFAULT_ATTACHMENT, renderAttachmentCosts } from '../../tools/cost/attachments';
import { messageCosts } from '../../tools/cost/changes';
import { DEFAULT_ASSUMPTIONS } from '../../tools/cost/model';
import { PRICES } from '../../tools/cost/prices';

/** `npm run cost` prices an image attachment per million: S3 requests, storage, transfer out, and its frames. */

it('prices S3 and transfer by hand: one PUT, a HEAD and a GET per view, 7 days of storage, a transfer per view', () => {
  const [ten] = attachmentCosts(DEFAULT_ASSUMPTIONS, PRICES, {
    imageBytes: 1024 ** 3 / 1000,
    viewsPerMember: 2,
  });
  // A 1/1000 GB image opened twice by each of 10 members: 20 GETs, 20/1000 GB out at $0.09.
  expect(ten?.transferUsdPerMillion).toBeCloseTo((20 / 1000) * 0.09 * 1e6, 6);
  const storage = (1 / 1000) * (DEFAULT_ASSUMPTIONS.messageRetentionDays / 30) * 0.023;
  expect(ten?.s3UsdPerMillion).toBeCloseTo((0.005 / 1000 + 21 * (0.0004 / 1000) + storage) * 1e6, 6);
});

it("costs an attachment a message's cost plus S3, transfer and a getattachment frame per view", () => {
  const rows = attachmentCosts(DEFAULT_ASSUMPTIONS);
  const messages = messageCosts(DEFAULT_ASSUMPTIONS, PRICES, 200);
  rows.forEach((row, i) => {
    const rest =
      row.usdPerMillion - (messages[i]?.usd ?? 0) - row.s3UsdPerMillion - row.transferUsdPerMillion;
    // Each view is an inbound frame and its reply ($2 per million), an invocation and a write: between $3 and $4.
    expect(rest / row.roomSize).toBeGreaterThan(3);
    expect(rest / row.roomSize).toBeLessThan(4.5);
  });
  // Transfer grows with the room and dominates it: 200 KB out to each member.
  expect(rows.map((r) => Math.round(r.transferUsdPerMillion))).toEqual([172, 1717, 17166]);
  const text = renderAttachmentCosts(rows, DEFAULT_ATTACHMENT);
  expect(text).toContain('room of 1000');
  expect(text.split('\n').filter((line) => line.includes('$'))).toHaveLength(3);
});
