import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoFanoutStore } from '../../functions/domain/fanout/dynamoFanout';
import { DynamoLeaseSweep } from '../../functions/domain/fanout/leaseSweep';
import { takeSeqAndPut } from '../../functions/platform/aws/roomEvents';
import { startTemplateTables, type TemplateTables } from './templateTables';

/** The template's tables in a local DynamoDB, with the fan-out's store and lease sweep over them. */
export interface FanoutTables {
  readonly tables: TemplateTables;
  readonly rooms: string;
  readonly store: DynamoFanoutStore;
  readonly sweep: DynamoLeaseSweep;
  /** A room item at seq 0 with its first event (seq 1) stored. */
  roomWithMessage(roomId: string): Promise<void>;
  /** The room's next event through the send path's own writes: seq `was` + 1 and its message. */
  nextEvent(roomId: string, was: number): Promise<void>;
}

/** Starts the tables; `close` them after the file. */
export async function startFanoutTables(): Promise<FanoutTables> {
  const tables = await startTemplateTables();
  const rooms = tables.table('RoomsTable');
  const messages = tables.table('MessagesTable');
  const store = new DynamoFanoutStore(tables.db, {
    rooms,
    messages,
    connections: tables.table('ConnectionsTable'),
    roomIndex: 'RoomIndex',
    limits: tables.table('LimitsTable'),
    leaseIndex: 'LeaseIndex',
  });
  const sweep = new DynamoLeaseSweep(tables.db, { rooms, leaseIndex: 'LeaseIndex' });
  async function nextEvent(roomId: string, was: number): Promise<void> {
    const seq = was + 1;
    const event = { roomId, seq, messageId: `m-${roomId}-${seq}`, sentAt: new Date().toISOString() };
    const names = { rooms, messages, sends: tables.table('SendsTable') };
    const ttl = Math.floor(Date.now() / 1000) + 3600;
    await tables.db.send(new TransactWriteCommand({ TransactItems: takeSeqAndPut(names, event, was, ttl) }));
  }
  return {
    tables,
    rooms,
    store,
    sweep,
    nextEvent,
    async roomWithMessage(roomId) {
      await tables.db.send(new PutCommand({ TableName: rooms, Item: { roomId, seq: 0 } }));
      await nextEvent(roomId, 0);
    },
  };
}
