import { CHANGE_ROOM_SIZES, changeCosts, renderChangeCosts } from '../../cost/changes';
import { DEFAULT_ASSUMPTIONS, estimate } from '../../cost/model';

/** `npm run cost` prices each message change at rooms of 10, 100 and 1,000, from the model a message is priced by. */

it('prices every change at rooms of 10, 100 and 1,000, posts dominating as the room grows', () => {
  const rows = changeCosts(DEFAULT_ASSUMPTIONS);
  expect(rows.map((r) => r.change.split(' ')[0])).toEqual(['edit', 'delete', 'reaction']);
  for (const row of rows) {
    expect(row.usdPerMillion).toHaveLength(CHANGE_ROOM_SIZES.length);
    // Each member of a quiet room gets one post per change, $1 per million posts.
    const [ten, hundred, thousand] = row.usdPerMillion as [number, number, number];
    expect(hundred - ten).toBeGreaterThan(85);
    expect(thousand - hundred).toBeGreaterThan(850);
    expect(row.postsPerChange.map(Math.round)).toEqual([10, 100, 999]);
  }
  const text = renderChangeCosts(rows);
  expect(text).toContain('room of 1000');
  expect(text.split('\n').filter((line) => line.includes('$'))).toHaveLength(3);
});

it("costs a change at least a message's send and fan-out, plus its read and rewrite of the message", () => {
  const message = estimate({
    roomSize: 100,
    messagesPerDay: 1e6 / 30,
    connections: 100,
    messageBytes: 200,
    days: 30,
  });
  const [edit] = changeCosts(DEFAULT_ASSUMPTIONS);
  // A message's own cost: without what the month costs however many messages are sent (connection minutes, custom
  // metrics), which a change does not add to.
  const roomcast = message.designs.roomcast;
  const monthly = roomcast.items
    .filter((i) => i.priceId === 'apigwWsConnectionMinutes' || i.priceId === 'cloudwatchCustomMetricMonths')
    .reduce((sum, i) => sum + i.usd, 0);
  expect(monthly).toBeGreaterThan(0);
  const perMessage = ((roomcast.totalUsd - monthly) / message.messagesPerMonth) * 1e6;
  expect(edit?.usdPerMillion[1]).toBeGreaterThan(perMessage);
  expect(edit?.usdPerMillion[1]).toBeLessThan(perMessage + 5);
});
