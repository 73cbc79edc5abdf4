import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoReadPositions } from './dynamoReadPositions';

/** The reading feature's DynamoDB adapter, given the table names template.yaml sets for it. */
export const readPositions = () =>
  new DynamoReadPositions(documentClient(), {
    memberships: requireEnv('MEMBERSHIPS_TABLE'),
    rooms: config.roomsTable(),
    connections: config.connectionsTable(),
  });
