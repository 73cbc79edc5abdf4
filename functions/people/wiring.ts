import { documentClient } from '#platform/aws/clients';
import { requireEnv } from '#platform/config';
import { DynamoPeopleStore } from './dynamoPeople';

/** The people feature's DynamoDB adapters, each given the table names template.yaml sets for it. */
/** Co-members by name and shared rooms (people.ts: findpeople, opendm), in the Memberships table and its PeopleIndex. */
export const peopleStore = () =>
  new DynamoPeopleStore(documentClient(), {
    memberships: requireEnv('MEMBERSHIPS_TABLE'),
    peopleIndex: requireEnv('PEOPLE_INDEX'),
  });
