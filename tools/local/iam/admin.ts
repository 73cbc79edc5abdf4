export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The documented local admin principal (docs/PARITY.md): the key every DynamoDB Local tutorial uses, so that tools,
 * tests and the benchmark reach the local services as before. It may do anything, as the developer's own AWS
 * credentials would. Local only: the services listen on 127.0.0.1.
 */
export const LOCAL_ADMIN: Readonly<Credentials> = Object.freeze({
  accessKeyId: 'local',
  secretAccessKey: 'local',
});
