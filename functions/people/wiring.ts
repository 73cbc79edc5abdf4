import { S3AttachmentReads } from '#attachments/s3Read';
import { DynamoProfiles } from '#core/aws/profiles';
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

/** The profiles find people shows beside each name (dynamoProfiles.ts). */
export const profileReader = () => new DynamoProfiles(documentClient(), requireEnv('DIRECTORY_TABLE'));

/** Signs the GET of each avatar a profile shows (profiles.ts), in the attachments bucket (ATTACHMENTS_BUCKET). */
export const avatarSigner = () => new S3AttachmentReads();
