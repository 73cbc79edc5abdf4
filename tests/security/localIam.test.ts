import {
  ApiGatewayManagementApiClient,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type Document, isMap, isScalar, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import type { LocalCloud } from '../../tools/local/cloud';
import { ChatClient, HandshakeRefused, isMessage, messagesIn } from '../helpers/chatClient';
import { auditRoom, cloudTables } from '../helpers/deliveryChecker';
import { editedTemplate, startTestCloud, type TestCloud } from '../helpers/localCloud';
import { hs256Token } from '../helpers/tokens';

/**
 * IAM as the local cloud enforces it: each function and the state machine call the local services with their own
 * key, and only what their template statements allow works. Taking one statement out of a copy of template.yaml
 * breaks exactly the feature that needs it, with the error AWS gives; callers outside the template need the
 * documented local admin key.
 */
jest.setTimeout(240_000);

const SECRET = 'iam-test-secret-0123456789abcdef0123456789';
const ADMIN = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Removes the statement `sid` from the inline policies of `resource`, also from a policy under `!If` (the
 * authorizer's, AuthMode=token only), or detaches the shared managed policy `sid` names (`- !Ref <Policy>`); throws
 * if it is not there.
 */
function withoutStatement(resource: string, sid: string) {
  return (doc: Document) => {
    const policies = doc.getIn(['Resources', resource, 'Properties', 'Policies']) as YAMLSeq<
      YAMLMap | YAMLSeq
    >;
    const attached = policies.items.findIndex((p) => isScalar(p) && p.value === sid);
    if (attached >= 0) {
      policies.items.splice(attached, 1);
      return;
    }
    const documents = policies.items.flatMap((p) =>
      isSeq(p) ? p.items.filter((branch): branch is YAMLMap => isMap(branch)) : isMap(p) ? [p] : [],
    );
    for (const policy of documents) {
      const statements = policy.get('Statement') as YAMLSeq<YAMLMap> | undefined;
      if (!statements) continue;
      const at = statements.items.findIndex((s) => s.get('Sid') === sid);
      if (at >= 0) {
        statements.items.splice(at, 1);
        return;
      }
    }
    throw new Error(`template.yaml has no statement ${sid} in ${resource}`);
  };
}

interface Scenario {
  testCloud: TestCloud;
  cloud: LocalCloud;
  clients: ChatClient[];
  logSince(mark: number): string;
  close(): Promise<void>;
}

async function cloudWithout(
  resource: string,
  sid: string,
  options: Parameters<typeof startTestCloud>[0] = {},
): Promise<Scenario> {
  const copy = editedTemplate(withoutStatement(resource, sid));
  const testCloud = await startTestCloud({ templatePath: copy.path, ...options }).catch((error: unknown) => {
    copy.remove();
    throw error;
  });
  const clients: ChatClient[] = [];
  return {
    testCloud,
    cloud: testCloud.cloud,
    clients,
    logSince: (mark) => testCloud.logs.slice(mark).join('\n'),
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
      await testCloud.cloud.close();
      copy.remove();
    },
  };
}

async function connect(s: Scenario, query: string): Promise<ChatClient> {
  const client = await ChatClient.connect(`${s.cloud.wsUrl}?${query}`);
  s.clients.push(client);
  return client;
}

async function handshakeRefusal(s: Scenario, query: string): Promise<HandshakeRefused> {
  const error = await connect(s, query).then(
    () => new Error(`?${query} was let in`),
    (e: unknown) => e,
  );
  if (!(error instanceof HandshakeRefused)) throw error;
  return error;
}

const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('taking one statement out of the template breaks its feature locally, as on AWS', () => {
  it("without SendMessage's events:PutEvents the sender gets INTERNAL, nobody gets the message, and the denial is logged", async () => {
    const s = await cloudWithout('MessagesFunction', 'PublishChatEventsPolicy');
    try {
      const [alice, bob] = [await connect(s, 'username=alice'), await connect(s, 'username=bob')];
      const busArn = s.cloud.template.eventBuses()[0]?.arn as string;
      const mark = s.testCloud.logs.length;
      const failed = await alice.ask({
        action: 'sendmessage',
        message: 'never published',
        clientMsgId: 'iam-1',
      });
      expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL', action: 'sendmessage' });
      // The same path as any publish failure: a retry with the same clientMsgId tries to publish again, not a new seq.
      const retried = await alice.ask({
        action: 'sendmessage',
        message: 'never published',
        clientMsgId: 'iam-1',
      });
      expect(retried).toMatchObject({ type: 'error', code: 'INTERNAL', action: 'sendmessage' });
      await s.testCloud.settle();
      expect([...alice.frames, ...bob.frames].flatMap(messagesIn)).toEqual([]);
      const logged = s.logSince(mark);
      expect(logged).toMatch(
        new RegExp(`iam: AccessDenied for MessagesFunction: events:PutEvents on ${literally(busArn)}`),
      );
      expect(logged).toMatch(
        /AccessDeniedException: User: \S+MessagesFunction\S* is not authorized to perform: events:PutEvents/,
      );
    } finally {
      await s.close();
    }
  });

  it("without SendMessage's access to Messages a send is refused: INTERNAL, nothing stored, its seq left a gap", async () => {
    const s = await cloudWithout('MessagesFunction', 'StoreMessagesAndChanges');
    try {
      const alice = await connect(s, 'username=alice');
      const tables = cloudTables(s.cloud);
      const mark = s.testCloud.logs.length;
      const failed = await alice.ask({
        action: 'sendmessage',
        message: 'never stored',
        clientMsgId: 'iam-2',
      });
      expect(failed).toMatchObject({
        type: 'error',
        code: 'INTERNAL',
        action: 'sendmessage',
        clientMsgId: 'iam-2',
      });
      const audit = await auditRoom(tables, 'lobby');
      // The seq was taken (the counter's ADD is allowed) and never stored: a gap, which history and the fan-out pass.
      expect(audit).toMatchObject({ seq: 1, stored: 0 });
      tables.db.destroy();
      expect(s.logSince(mark)).toMatch(
        /iam: AccessDenied for MessagesFunction: dynamodb:(Query|PutItem) on arn:aws:dynamodb:\S+:table\/\S*MessagesTable/,
      );
    } finally {
      await s.close();
    }
  });

  it("without Deliver's POST on @connections the fan-out reaches nobody: every post of the chunk fails", async () => {
    const s = await cloudWithout('DeliverFunction', 'PostToConnections');
    try {
      const [alice, bob] = [await connect(s, 'username=alice'), await connect(s, 'username=bob')];
      const bobId = await bob.connectionId();
      const mark = s.testCloud.logs.length;
      expect((await alice.expectReply({ action: 'sendmessage', message: 'posted to nobody' })).type).toBe(
        'ack',
      );
      await s.testCloud.settle();
      expect([...alice.frames, ...bob.frames].flatMap(messagesIn).filter(isMessage('lobby'))).toEqual([]);
      const api = s.cloud.template.webSocketApis()[0];
      const resource = `arn:aws:execute-api:${s.cloud.template.region}:${s.cloud.template.accountId}:${api?.id}/${api?.stageName}/POST/@connections/${bobId}`;
      const logged = s.logSince(mark);
      expect(logged).toContain(
        `iam: AccessDenied for DeliverFunction: execute-api:ManageConnections on ${resource}`,
      );
      expect(logged).toMatch(/posts to be tried again or resynced [^\n]*"deliveries":0/);
      // Both members are noted for a resync, in one chunk or one per shard of the room index they hash to.
      const resyncs = [...logged.matchAll(/posts to be tried again or resynced [^\n]*"resyncs":(\d+)/g)];
      expect(resyncs.reduce((sum, m) => sum + Number(m[1]), 0)).toBe(2);
    } finally {
      await s.close();
    }
  });

  it("without Connect's dynamodb:PutItem no one can connect: the handshake fails with 500", async () => {
    const s = await cloudWithout('ConnectionFunction', 'StoreAndRemoveConnection');
    try {
      const mark = s.testCloud.logs.length;
      expect((await handshakeRefusal(s, 'username=alice')).status).toBe(500);
      const table = s.cloud.template.tables().find((t) => t.logicalId === 'ConnectionsTable')?.TableName;
      const logged = s.logSince(mark);
      expect(logged).toContain(
        `iam: AccessDenied for ConnectionFunction: dynamodb:PutItem on arn:aws:dynamodb:${s.cloud.template.region}:${s.cloud.template.accountId}:table/${table}`,
      );
      expect(logged).toMatch(
        /AccessDeniedException: User: \S+ConnectionFunction\S* is not authorized to perform: dynamodb:PutItem/,
      );
    } finally {
      await s.close();
    }
  });

  it("without the state machine's Query on the room index the fan-out hands the room back on the denied Query", async () => {
    // Chunks of one member: a room of two, two chunks.
    const s = await cloudWithout('FanoutStateMachine', 'ReadRoomMembers', {
      settings: { FanoutChunkSize: '1' },
    });
    try {
      const alice = await connect(s, 'username=alice');
      await connect(s, 'username=bob'); // a room of two: two chunks of one for the state machine to read
      const mark = s.testCloud.logs.length;
      expect((await alice.expectReply({ action: 'sendmessage', message: 'queried by nobody' })).type).toBe(
        'ack',
      );
      await s.testCloud.settle();
      const logged = s.logSince(mark);
      // The denial is the state machine's, logged as AWS would refuse it, and the room that met it is handed back
      // alone (its records stay in the fan-out queue for the next receive), naming the denial as its cause.
      expect(logged).toMatch(
        /iam: AccessDenied for FanoutStateMachine: dynamodb:Query on \S+\/index\/RoomSubscribers/,
      );
      expect(logged).toMatch(/fan-out handed a room back: .*not authorized to perform: dynamodb:Query/);
    } finally {
      await s.close();
    }
  });

  it("without the authorizer's ssm:GetParameter a valid token no longer connects (500), and the read is logged as denied", async () => {
    const s = await cloudWithout('AuthorizerFunction', 'ReadTokenSecret', {
      parameters: { AuthMode: 'token' },
      authSecret: SECRET,
    });
    try {
      const mark = s.testCloud.logs.length;
      const token = hs256Token(
        { sub: 'alice', username: 'alice', exp: Math.floor(Date.now() / 1000) + 300 },
        SECRET,
      );
      expect((await handshakeRefusal(s, `token=${token}`)).status).toBe(500);
      const logged = s.logSince(mark);
      expect(logged).toMatch(
        /iam: AccessDenied for AuthorizerFunction: ssm:GetParameter on arn:aws:ssm:[^:]+:\d+:parameter\/roomcast\/auth-secret/,
      );
    } finally {
      await s.close();
    }
  });
});

describe('callers of the local services', () => {
  let testCloud: TestCloud;
  let cloud: LocalCloud;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    testCloud = await startTestCloud({ parameters: { AuthMode: 'token' }, authSecret: SECRET });
    cloud = testCloud.cloud;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cloud?.close();
  });

  async function member(): Promise<ChatClient> {
    const token = hs256Token(
      { sub: 'carol', username: 'carol', exp: Math.floor(Date.now() / 1000) + 300 },
      SECRET,
    );
    const client = await ChatClient.connect(`${cloud.wsUrl}?token=${token}`);
    clients.push(client);
    return client;
  }

  const management = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    new ApiGatewayManagementApiClient({
      endpoint: cloud.callbackUrl,
      region: cloud.template.region,
      credentials,
    });

  it('an unsigned management-API request is refused 403 ForbiddenException and reaches no one', async () => {
    const carol = await member();
    const id = await carol.connectionId();
    const answer = await fetch(`${cloud.callbackUrl}/@connections/${encodeURIComponent(id)}`, {
      method: 'POST',
      body: JSON.stringify({ type: 'message', text: 'forged' }),
    });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await answer.json()).toEqual({ message: 'Request is missing Authentication Token' });
    await new Promise((r) => setTimeout(r, 200));
    expect(carol.frames.filter((f) => f.text === 'forged')).toEqual([]);
  });

  it('an unknown key or a wrong secret is refused 403 ForbiddenException by the management API', async () => {
    const carol = await member();
    const id = await carol.connectionId();
    for (const credentials of [
      { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'whatever' },
      { accessKeyId: 'local-DeliverFunction', secretAccessKey: 'guessed' },
    ]) {
      const client = management(credentials);
      const error = await client
        .send(new PostToConnectionCommand({ ConnectionId: id, Data: '{"text":"forged"}' }))
        .then(
          () => undefined,
          (e: { name?: string; $metadata?: { httpStatusCode?: number } }) => e,
        );
      client.destroy();
      expect({ name: error?.name, status: error?.$metadata?.httpStatusCode }).toEqual({
        name: 'ForbiddenException',
        status: 403,
      });
    }
    expect(carol.frames.filter((f) => f.text === 'forged')).toEqual([]);
  });

  it('the documented local admin key may post to and read a connection', async () => {
    const carol = await member();
    const id = await carol.connectionId();
    const client = management(ADMIN);
    await client.send(
      new PostToConnectionCommand({ ConnectionId: id, Data: '{"type":"notice","text":"from admin"}' }),
    );
    const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
    client.destroy();
    expect(await carol.next((f) => f.text === 'from admin')).toMatchObject({ type: 'notice' });
    expect(info.ConnectedAt).toBeInstanceOf(Date);
  });

  it("a function's own key is refused what its statements do not allow, with the error name each SDK parses", async () => {
    // Typing publishes nothing to the bus, scans nothing and reads no parameter.
    const credentials = cloud.iam.credentials('TypingFunction');
    const region = cloud.template.region;
    const table = cloud.template.tables().find((t) => t.logicalId === 'ConnectionsTable')?.TableName;
    const db = new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region, credentials });
    const events = new EventBridgeClient({ endpoint: cloud.eventsEndpoint, region, credentials });
    const ssm = new SSMClient({ endpoint: cloud.ssmEndpoint, region, credentials });
    const refused = (promise: Promise<unknown>) =>
      promise.then(
        () => 'allowed',
        (e: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
          `${e.name} ${e.$metadata?.httpStatusCode}`,
      );
    try {
      expect({
        scan: await refused(db.send(new ScanCommand({ TableName: table }))),
        putEvents: await refused(
          events.send(
            new PutEventsCommand({
              Entries: [
                {
                  EventBusName: cloud.template.eventBuses()[0]?.name,
                  Source: 'x',
                  DetailType: 'y',
                  Detail: '{}',
                },
              ],
            }),
          ),
        ),
        getParameter: await refused(
          ssm.send(new GetParameterCommand({ Name: '/roomcast/auth-secret', WithDecryption: true })),
        ),
      }).toEqual({
        scan: 'AccessDeniedException 400',
        putEvents: 'AccessDeniedException 400',
        getParameter: 'AccessDeniedException 400',
      });
    } finally {
      db.destroy();
      events.destroy();
      ssm.destroy();
    }
  });

  it("Deliver's own key may update the posting budget's counters and no other Limits key (dynamodb:LeadingKeys)", async () => {
    const credentials = cloud.iam.credentials('DeliverFunction');
    const region = cloud.template.region;
    const table = cloud.template.tables().find((t) => t.logicalId === 'LimitsTable')?.TableName;
    const db = new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region, credentials, maxAttempts: 1 });
    const update = (limitKey: string) =>
      db
        .send(
          new UpdateItemCommand({
            TableName: table,
            Key: { limitKey: { S: limitKey } },
            UpdateExpression: 'ADD posts :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        )
        .then(
          () => 'allowed',
          (e: { name?: string }) => String(e.name),
        );
    try {
      expect({
        budget: await update('post-budget#1764021600#0'),
        // The guards' quotas and buckets share the table: a join-guess bucket, a source's places, a typing turn.
        guesses: await update('join-guesses#203.0.113.7'),
        source: await update('source#203.0.113.7'),
        typing: await update('typing#ROOM0001#user:ann'),
      }).toEqual({
        budget: 'allowed',
        guesses: 'AccessDeniedException',
        source: 'AccessDeniedException',
        typing: 'AccessDeniedException',
      });
    } finally {
      db.destroy();
    }
  });

  it("myrooms' own key reads only the room attributes its policy names (dynamodb:Attributes, dynamodb:Select)", async () => {
    const credentials = cloud.iam.credentials('RoomsFunction');
    const region = cloud.template.region;
    const table = String(cloud.template.tables().find((t) => t.logicalId === 'RoomsTable')?.TableName);
    const db = new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region, credentials, maxAttempts: 1 });
    const read = (projection?: string) =>
      db
        .send(
          new BatchGetItemCommand({
            RequestItems: {
              [table]: {
                Keys: [{ roomId: { S: 'ROOM0001' } }],
                ...(projection !== undefined && { ProjectionExpression: projection }),
              },
            },
          }),
        )
        .then(
          () => 'allowed',
          (e: { name?: string }) => String(e.name),
        );
    try {
      expect({
        listed: await read('roomId, seq, keyId, ownerId'),
        inviteKey: await read('roomId, inviteKey'),
        removedNames: await read('roomId, removedNames'),
        // Every attribute, by asking for none.
        unprojected: await read(),
      }).toEqual({
        listed: 'allowed',
        inviteKey: 'AccessDeniedException',
        removedNames: 'AccessDeniedException',
        unprojected: 'AccessDeniedException',
      });
    } finally {
      db.destroy();
    }
  });

  it('a wrong secret or an unknown key is refused by DynamoDB before any policy is read', async () => {
    const region = cloud.template.region;
    const names: string[] = [];
    for (const credentials of [
      { accessKeyId: 'local-ConnectionFunction', secretAccessKey: 'guessed' },
      { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'whatever' },
    ]) {
      const db = new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region, credentials, maxAttempts: 1 });
      names.push(
        await db.send(new ScanCommand({ TableName: 'any' })).then(
          () => 'allowed',
          (e: Error) => e.name,
        ),
      );
      db.destroy();
    }
    expect(names).toEqual(['InvalidSignatureException', 'UnrecognizedClientException']);
  });

  it("the state machine's role may invoke Deliver and no other function", async () => {
    const functions = cloud.template.functions();
    const deliver = functions.find((f) => f.logicalId === 'DeliverFunction')?.arn as string;
    const connect = functions.find((f) => f.logicalId === 'ConnectionFunction')?.arn as string;
    expect(await cloud.iam.checkCall('FanoutStateMachine', 'lambda:InvokeFunction', deliver)).toBeUndefined();
    expect(await cloud.iam.checkCall('FanoutStateMachine', 'lambda:InvokeFunction', connect)).toMatchObject({
      code: 'AccessDeniedException',
      message: expect.stringContaining(`lambda:InvokeFunction on resource: ${connect}`),
    });
  });
});
