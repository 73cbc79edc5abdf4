import type { Room } from '#core/ports';
import type { Profile } from '#protocol';

/** A public room's entry in the directory: its folded name (the key), the room, and what a listing shows. */
export interface ListedEntry {
  entryKey: string;
  roomId: string;
  name: string;
  topic?: string;
}

/** An owner's change of its room's name, topic or visibility, with the directory entries it moves. */
export interface RoomSettingChange {
  roomId: string;
  ownerId: string;
  /** The caller's key in the room: the room's `ownerKey` (core/ports.ts Room) makes it the owner too. */
  ownerKey: string;
  nowSeconds: number;
  name?: string;
  topic?: string;
  isPublic: boolean;
  /** Whether members pin too, when the change sets it. */
  membersPin?: boolean;
  /** The room's name as the directory should show it after the change (its current or new name). */
  listedName?: string;
  /** The entry the room holds now (undefined: not listed) and the one it holds after (undefined: not listed). */
  from?: string;
  to?: string;
}

export type StoredProfile = Profile & { updatedAt: string };

/** The directory of public rooms and the profiles (dynamoDirectory.ts). */
export interface DirectoryStore {
  /** Creates a public room and its name's entry in one transaction: both, or neither. */
  createListed(room: Room, entry: ListedEntry): Promise<'created' | 'codeTaken' | 'nameTaken'>;
  /** The entry holding a name (a strongly consistent read). */
  holder(entryKey: string): Promise<ListedEntry | undefined>;
  /** Deletes a name's entry if `roomId` still holds it (a room that ended); never throws. */
  dropEntry(entryKey: string, roomId: string): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order, after `after`, at most `limit`; `next` if more may follow. */
  search(
    prefix: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ entries: ListedEntry[]; next?: string }>;
  /** The rooms' life and listing (roomId, ttl, closedAt, isPublic, listedAs, name, topic); a missing one is absent. */
  rooms(roomIds: string[]): Promise<Room[]>;
  /** Applies an owner's change: `refused` (not the owner, ended, or listed otherwise by now), `nameTaken`. */
  change(change: RoomSettingChange): Promise<'changed' | 'refused' | 'nameTaken'>;
  saveProfile(profile: StoredProfile): Promise<void>;
  profile(userId: string): Promise<StoredProfile | undefined>;
}
