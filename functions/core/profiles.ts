import { memberKey } from '#core/memberKeys';
import { ATTACHMENT_LIMITS, type AuthorProfile, DIRECTORY_LIMITS, type Profile } from '#protocol';

/**
 * Profiles as readers are given them (docs/PROTOCOL.md, "Named rooms, the directory and profiles"): beside find
 * people's results, a `history` page's authors and each `profile` push, all of them frames to members of a room the
 * person is (or wrote) in. An avatar is the person's own object (`avatars/<owner>`, attachments/avatars.ts) that no
 * route signs on request; so wherever a profile is given, its avatar carries a presigned GET of its stored version
 * (`url`, good for ATTACHMENT_LIMITS.readSeconds), signed by the function giving it, whose role may read versions of
 * `avatars/*` only.
 */

/** The key of a person's avatar object: only such a key is ever signed for a profile's reader. */
const AVATAR_OBJECT = /^avatars\/[A-Za-z0-9_-]{22}$/;

/** Profiles by user id (DynamoProfiles). */
export interface ProfileReader {
  of(userIds: string[]): Promise<Map<string, Profile>>;
}

/** Presigns a GET of one version of an attachment (functions/attachments/s3Bucket.ts). */
export interface AvatarSigner {
  presignRead(key: string, versionId: string, seconds: number): Promise<string>;
}

/**
 * The profile with its avatar's `url` to show it by: an avatar without a stored version, or whose key is not an avatar
 * object (a room's image an older profile named), is left out.
 */
export async function shownProfile<P extends Profile>(
  profile: P,
  signer: AvatarSigner | undefined,
): Promise<P> {
  const { avatar, ...rest } = profile;
  if (!avatar?.versionId || !signer || !AVATAR_OBJECT.test(avatar.key)) return rest as P;
  const url = await signer.presignRead(avatar.key, avatar.versionId, ATTACHMENT_LIMITS.readSeconds);
  return { ...rest, avatar: { key: avatar.key, versionId: avatar.versionId, url } } as P;
}

const hasProfile = (p: Profile | undefined): p is Profile =>
  p !== undefined && (p.displayName !== undefined || p.status !== undefined || p.avatar !== undefined);

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

/**
 * The profiles of a history page's signed-in authors, one per author by its key in the room (`authorKey`, as its
 * messages carry it: two authors showing one name stay two) with the name its latest message on the page shows: one
 * BatchGetItem of the page's distinct authors (at most its 100 messages'), the latest authors' first, as many as fit
 * DIRECTORY_LIMITS.historyProfileBytes (the page's messages are fitted to the rest of the reply).
 */
async function authorProfiles(
  reader: ProfileReader,
  signer: AvatarSigner | undefined,
  authors: { roomId: string; userId?: string; username: string }[],
): Promise<AuthorProfile[]> {
  const seen = new Set<string>();
  const pairs: { userId: string; username: string; authorKey: string }[] = [];
  for (const { roomId, userId, username } of [...authors].reverse()) {
    if (!userId?.startsWith('user:') || seen.has(userId)) continue;
    seen.add(userId);
    pairs.push({ userId, username, authorKey: memberKey(roomId, userId) });
  }
  if (pairs.length === 0) return [];
  const profiles = await reader.of(pairs.map((p) => p.userId));
  const out: AuthorProfile[] = [];
  let size = 0;
  for (const { userId, username, authorKey } of pairs) {
    const profile = profiles.get(userId);
    if (!hasProfile(profile)) continue;
    const shown = await shownProfile({ ...profile, authorKey, username }, signer);
    size += bytes(shown) + 1;
    if (size > DIRECTORY_LIMITS.historyProfileBytes) break;
    out.push(shown);
  }
  return out;
}

/** The hook `history` and joins call with their page (rooms.ts, joining.ts): its authors' profiles. */
export const pageAuthorProfiles =
  (reader: ProfileReader, signer: AvatarSigner | undefined) =>
  (page: { roomId: string; authorUser?: string; username: string }[]): Promise<AuthorProfile[]> =>
    authorProfiles(
      reader,
      signer,
      page.map((m) => ({ roomId: m.roomId, userId: m.authorUser, username: m.username })),
    );
