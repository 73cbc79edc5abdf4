import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as deliver, GIVE_UP_MS, STOP_POSTING_MS } from '../../functions/deliver';
import { handler as sendmessage } from '../../functions/sendmessage';
import { POSTS_IN_FLIGHT } from '../../functions/shared/delivery';
import { REPLY_MARGIN_MS } from '../../functions/shared/websocket';
import { sampleEvent } from '../helpers/events';
import { FakeManagementApi } from '../helpers/fakeManagementApi';

/** Functions that know their deadline: what they did not finish before their timeout, they hand back in time. */
/** Deliver posts with a signed HTTP POST, so a local stand-in answers for the stage. */
const stage = new FakeManagementApi();
const db = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);

/** A Lambda context whose timeout is `ms` from now. */
function contextEnding(ms: number): Context {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) } as unknown as Context;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await stage.start();
});

afterAll(async () => {
  await stage.stop();
});

beforeEach(() => {
  stage.hang.clear();
  stage.delayMs = 0;
  stage.arrived.length = 0;
  db.reset();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
});

describe('deliver before its timeout', () => {
  it('hands back, before the timeout, the posts it did not start as retryIds and those unanswered as unconfirmedIds', async () => {
    const hung = ['hung-0', 'hung-1'];
    const ids = [...hung, ...Array.from({ length: 2 * POSTS_IN_FLIGHT + 20 }, (_, i) => `c-${i}`)];
    for (const id of hung) stage.hang.add(id);
    stage.delayMs = 400;
    // Posting stops 400 ms after the start (two rounds of posts start), waiting stops 1 s before the timeout.
    const timeoutMs = STOP_POSTING_MS + 400;
    const started = Date.now();
    const report = await deliver(
      { connectionIds: ids, payload: '{}', messageId: 'm1' },
      contextEnding(timeoutMs),
    );
    const tookMs = Date.now() - started;

    expect(tookMs).toBeLessThan(timeoutMs - GIVE_UP_MS + 500);
    const notStarted = ids.filter((id) => !stage.arrived.includes(id));
    expect(notStarted.length).toBeGreaterThan(0);
    expect(new Set(report.retryIds)).toEqual(new Set(notStarted));
    expect(new Set(report.unconfirmedIds)).toEqual(new Set(hung));
    expect(report.delivered).toBe(ids.length - hung.length - notStarted.length);
    expect(report.failedIds).toEqual([]);
  }, 20_000);

  it('posts the whole chunk when there is time', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `c-${i}`);
    const report = await deliver(
      { connectionIds: ids, payload: '{}', messageId: 'm2' },
      contextEnding(30_000),
    );
    expect(report).toEqual({ delivered: 120, goneIds: [], retryIds: [], failedIds: [], unconfirmedIds: [] });
  });
});

describe('sendmessage before its timeout', () => {
  it('answers a retryable INTERNAL error frame before the timeout when its table does not answer', async () => {
    // The connection is read only after the reply went out: the abandoned send must then not take a seq.
    db.on(GetCommand).callsFake(async () => {
      await sleep(REPLY_MARGIN_MS + 1000);
      return { Item: { connectionId: 'Lw7Hzc2tIAMCJPQ=', roomId: 'lobby', username: 'alice' } };
    });
    db.on(PutCommand).resolves({});
    db.on(UpdateCommand).resolves({ Attributes: { seq: 1 } });
    const timeoutMs = REPLY_MARGIN_MS + 500;
    const started = Date.now();
    const reply = await sendmessage(
      sampleEvent('sendmessage', {
        body: JSON.stringify({ action: 'sendmessage', message: 'hi', clientMsgId: 'c1' }),
      }),
      contextEnding(timeoutMs),
    );
    expect(Date.now() - started).toBeLessThan(timeoutMs);
    expect(reply).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(String((reply as { body: string }).body))).toMatchObject({
      type: 'error',
      code: 'INTERNAL',
      action: 'sendmessage',
    });
    // Past the moment the connection is read, plus time for the send to go on if it were allowed to.
    await sleep(REPLY_MARGIN_MS + 1000);
    expect(db.commandCalls(GetCommand).length).toBeGreaterThan(0);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  }, 10_000);

  it('an answered-busy send whose transaction was in flight stores the message once and publishes it itself', async () => {
    db.on(GetCommand).resolves({
      Item: { connectionId: 'Lw7Hzc2tIAMCJPQ=', roomId: 'lobby', username: 'alice' },
    });
    db.on(UpdateCommand).resolves({});
    // The transaction outlasts the reply deadline; it lands, so this attempt is the message's publisher.
    db.on(TransactWriteCommand).callsFake(async () => {
      await sleep(REPLY_MARGIN_MS + 1000);
      return {};
    });
    const reply = await sendmessage(
      sampleEvent('sendmessage', {
        body: JSON.stringify({ action: 'sendmessage', message: 'hi', clientMsgId: 'c2' }),
      }),
      contextEnding(REPLY_MARGIN_MS + 500),
    );
    expect(JSON.parse(String((reply as { body: string }).body))).toMatchObject({ code: 'INTERNAL' });
    await sleep(REPLY_MARGIN_MS + 1000);
    expect(db.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(1);
  }, 10_000);
});
