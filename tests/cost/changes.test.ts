import { CHANGE_KINDS } from '#messages/changeKinds/index';
import { CHANGE_ACTIONS } from '#protocol';
import {
  CHANGE_ROOM_SIZES,
  changeCosts,
  mentionCosts,
  renderChangeCosts,
  replyCosts,
  threadReplyCosts,
} from '../../tools/cost/changes';
import { DEFAULT_ASSUMPTIONS, estimate } from '../../tools/cost/model';

/** `npm run cost` prices each message change at rooms of 10, 100 and 1,000, from the model a message is priced by. */

it('prices every change kind at rooms of 10, 100 and 1,000, posts dominating as the room grows', () => {
  const rows = changeCosts(DEFAULT_ASSUMPTIONS);
  // One row per change action, named by its kind's cost facts: a kind the messages function serves is priced.
  expect(rows.map((r) => r.change).sort()).toEqual(
    CHANGE_ACTIONS.map((action) => CHANGE_KINDS[action].cost.name).sort(),
  );
  expect(rows.map((r) => r.change.split(' ')[0])).toEqual(
    expect.arrayContaining(['edit', 'delete', 'reaction', 'pin']),
  );
  for (const row of rows) {
    expect(row.usdPerMillion).toHaveLength(CHANGE_ROOM_SIZES.length);
    // Each member of a quiet room gets one post per change, $1 per million posts.
    const [ten, hundred, thousand] = row.usdPerMillion as [number, number, number];
    expect(hundred - ten).toBeGreaterThan(85);
    expect(thousand - hundred).toBeGreaterThan(850);
    expect(row.postsPerChange.map(Math.round)).toEqual([10, 100, 1000]);
  }
  const text = renderChangeCosts(rows);
  expect(text).toContain('room of 1000');
  expect(text.split('\n').filter((line) => line.includes('$'))).toHaveLength(rows.length);
  // A pin also reads and rewrites the room's pins item: it costs more than an edit of the same message.
  const usd = (name: string) => rows.find((r) => r.change.startsWith(name))?.usdPerMillion[0] ?? Number.NaN;
  expect(usd('pin')).toBeGreaterThan(usd('edit'));
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

it("prices a reply as a message plus the original's reads for the check and the quote, under a cent more per million", () => {
  const reply = replyCosts(DEFAULT_ASSUMPTIONS);
  const message = estimate({
    roomSize: 10,
    messagesPerDay: 1e6 / 30,
    connections: 10,
    messageBytes: 200,
    days: 30,
  });
  const roomcast = message.designs.roomcast;
  const monthly = roomcast.items
    .filter((i) => i.priceId === 'apigwWsConnectionMinutes' || i.priceId === 'cloudwatchCustomMetricMonths')
    .reduce((sum, i) => sum + i.usd, 0);
  const perMessage = ((roomcast.totalUsd - monthly) / message.messagesPerMonth) * 1e6;
  // Two half read units ($0.125 per million units): $0.125 per million replies over the message.
  expect((reply.usdPerMillion[0] as number) - perMessage).toBeCloseTo(0.125, 3);
  expect(renderChangeCosts([reply])).toContain('reply (quoting a message)');
});

it('prices a mention as a message plus the posts to the named member’s other devices and the reads that find them', () => {
  const reply = replyCosts(DEFAULT_ASSUMPTIONS);
  const mention = mentionCosts(DEFAULT_ASSUMPTIONS);
  // Two `mention` posts at $1 per million, and a few read units (the room's members over the room index's 10
  // shards: 5 RRU at least): about $2.80 over the message in a room of 10.
  const overMessage = (mention.usdPerMillion[0] as number) - ((reply.usdPerMillion[0] as number) - 0.125);
  expect(overMessage).toBeGreaterThan(2);
  expect(overMessage).toBeLessThan(3);
  expect(mention.postsPerChange[0]).toBe((reply.postsPerChange[0] as number) + 2);
  // Resolving names in a room of 1,000 reads its index: more than in a room of 10.
  const [ten, , thousand] = mention.usdPerMillion as [number, number, number];
  const [rten, , rthousand] = reply.usdPerMillion as [number, number, number];
  expect(thousand - rthousand).toBeGreaterThan(ten - rten);
});

it('prices a thread reply as a message plus its root read and rewrite, its pointer, and the followers it tells', () => {
  const reply = replyCosts(DEFAULT_ASSUMPTIONS);
  const thread = threadReplyCosts(DEFAULT_ASSUMPTIONS);
  const perMessage = (reply.usdPerMillion[0] as number) - 0.125;
  // Two `mention` posts ($2 per million), the pointer, root and turn writes (~5 WCU at $0.625 per million) and the
  // reads: between $4 and $6 over the message, the same at every room size (the fan-out is the message's).
  const over = (thread.usdPerMillion[0] as number) - perMessage;
  expect(over).toBeGreaterThan(4);
  expect(over).toBeLessThan(6);
  const [ten, , thousand] = thread.usdPerMillion as [number, number, number];
  const [rten, , rthousand] = reply.usdPerMillion as [number, number, number];
  expect(thousand - rthousand).toBeCloseTo(ten - rten, 6);
  expect(thread.postsPerChange[0]).toBe((reply.postsPerChange[0] as number) + 2);
  expect(renderChangeCosts([thread])).toContain('thread reply');
});
