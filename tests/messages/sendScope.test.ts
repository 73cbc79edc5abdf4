import { randomBytes } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { connect } from '#core/identity/connections';
import { parseResumeToken } from '#core/protocol';
import { sendMessage } from '#messages/sending';
import type { SendDeps } from '#messages/sendTypes';
import { connectionStore, sendStore, templateTables } from '../helpers/templateTables';

/**
 * Whose a `clientMsgId` is without sign-in: never a name's. Two people who both chose "sam" and both send
 * `clientMsgId: "m-1"` each get their own message; a client that reconnects with its resume token keeps its scope,
 * so its retry on the new connection gets the first ack.
 */

const tables = templateTables();

let n = 0;
const newResumeToken = () => randomBytes(16).toString('base64url');

async function room() {
  const roomId = `S${++n}`;
  const deps: SendDeps = {
    connections: connectionStore(tables),
    sends: sendStore(tables),
    events: { publish: async () => undefined },
    now: () => new Date(),
    messageRetentionDays: 7,
  };
  await tables.db.send(new PutCommand({ TableName: tables.table('RoomsTable'), Item: { roomId, seq: 0 } }));
  /** Connects as $connect does without sign-in (the connection is the user), with `resume` if given, into the room. */
  const person = async (name: string, resume?: string) => {
    const connectionId = `scope${++n}`;
    await connect(deps, connectionId, {
      username: name,
      userId: `connection:${connectionId}`,
      sendScope: parseResumeToken(resume),
    });
    await deps.connections.moveToRoom(connectionId, roomId, new Date().toISOString(), name);
    return (text: string, clientMsgId: string) => sendMessage(deps, { connectionId, text, clientMsgId });
  };
  const stored = async () =>
    (
      await tables.db.send(
        new QueryCommand({
          TableName: tables.table('MessagesTable'),
          KeyConditionExpression: 'roomId = :r',
          ExpressionAttributeValues: { ':r': roomId },
          ConsistentRead: true,
        }),
      )
    ).Items?.map((m) => m.text) ?? [];
  return { person, stored };
}

describe('the scope of a clientMsgId without sign-in', () => {
  it('two people who both chose "sam" and send "m-1" without a resume token each get their message', async () => {
    const { person, stored } = await room();
    const [first, second] = [await person('sam'), await person('sam')];
    const a = await first('from the first sam', 'm-1');
    const b = await second('from the second sam', 'm-1');
    expect(b.ack.messageId).not.toBe(a.ack.messageId);
    expect(b.message.text).toBe('from the second sam');
    expect(await stored()).toEqual(['from the first sam', 'from the second sam']);
  });

  it('two people named "sam" with resume tokens of their own each get their message', async () => {
    const { person, stored } = await room();
    const first = await person('sam', newResumeToken());
    const second = await person('sam', newResumeToken());
    await first('one', 'm-1');
    expect((await second('two', 'm-1')).message.text).toBe('two');
    expect(await stored()).toEqual(['one', 'two']);
  });

  it('a client that reconnects with its resume token gets the first ack for its retry, and nothing twice', async () => {
    const { person, stored } = await room();
    const token = newResumeToken();
    const before = await person('sam', token);
    const sent = await before('sent before the drop', 'm-1');
    const after = await person('sam', token);
    const retried = await after('sent before the drop', 'm-1');
    expect(retried.ack).toEqual(sent.ack);
    expect(await stored()).toEqual(['sent before the drop']);
  });

  it('refuses a resume token that is not 128 bits of base64url', () => {
    expect(() => parseResumeToken('sam')).toThrow('22 characters');
    expect(() => parseResumeToken(`${newResumeToken()}x`)).toThrow('22 characters');
    expect(parseResumeToken(undefined)).toBeUndefined();
    // Kept hashed: the token itself is not what is stored.
    const token = newResumeToken();
    expect(parseResumeToken(token)).toMatch(/^resume:[\w-]{43}$/);
    expect(parseResumeToken(token)).not.toContain(token);
  });
});
