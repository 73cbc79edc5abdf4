import { type AvatarBucket, avatarKey, keptAvatar, parseAvatar } from '#attachments/avatars';
import { BadRequest, Forbidden } from '#core/errors';
import { type OtherDevices, tellOtherDevices } from '#core/identity/otherDevices';
import { memberKey } from '#core/memberKeys';
import type { ChatPorts, Connection } from '#core/ports';
import { type AvatarSigner, shownProfile } from '#core/profiles';
import { roomFrameEvent } from '#core/roomFrames';
import type { DirectoryStore } from '#directory/ports';
import { logger } from '#platform/powertools';
import { DIRECTORY_LIMITS, type ProfileFrame } from '#protocol';
import { labelField } from '#safety/labels';
import type { ProfileRooms } from './ports';

/**
 * Profiles (protocol/directory.ts; docs/DECISIONS.md, "Named rooms, the directory and profiles"): a signed-in user's
 * display name, status and avatar, kept in the DirectoryTable beside the directory's entries (its store:
 * functions/directory/ports.ts) and told to the rooms the user belongs to (their memberships: `ProfileRooms`,
 * ports.ts, handed in by the function that hosts the route).
 */

/** The `displayName`, `status` and `avatar` of setprofile. */
export function parseProfile(body: Record<string, unknown>): {
  displayName?: string;
  status?: string;
  avatar?: { key: string } | null;
} {
  const out: { displayName?: string; status?: string; avatar?: { key: string } | null } = {};
  const displayName = labelField(
    body,
    'displayName',
    'title',
    DIRECTORY_LIMITS.displayNameMaxChars,
    'display name',
  );
  if (displayName !== undefined) out.displayName = displayName;
  const status = labelField(body, 'status', 'text', DIRECTORY_LIMITS.statusMaxChars, 'status');
  if (status !== undefined) out.status = status;
  // An avatar upload of the caller's, never a room's image (avatars.ts); whose it is is checked by setProfile.
  if (body.avatar !== undefined) out.avatar = parseAvatar(body.avatar);
  if (Object.keys(out).length === 0)
    throw new BadRequest('setprofile changes "displayName", "status" or "avatar": give at least one.');
  return out;
}

type ProfileDeps = Pick<ChatPorts, 'connections' | 'events' | 'now'> & {
  directory: DirectoryStore;
  /** The person's other connections (core/identity/otherDevices.ts): its own profile form, name and avatar follow. */
  otherDevices?: OtherDevices;
  /** The rooms the user belongs to (ports.ts): the hosting function's memberships store. */
  memberships: ProfileRooms;
  /** The attachments bucket: an avatar upload read back and copied, an avatar cleared, its version's GET signed. */
  avatars: AvatarBucket & AvatarSigner;
};

/**
 * A signed-in user's profile: stored (one PutItem), then pushed as `profile` to each room the user belongs to, its
 * first DIRECTORY_LIMITS.profileRooms memberships (one Query), ten rooms to a PutEvents: a bounded fan-out of at most
 * 100 room broadcasts per change. A room not told (a failed publish) shows the profile at its next change.
 */
export async function setProfile(
  deps: ProfileDeps,
  caller: Connection,
  change: ReturnType<typeof parseProfile>,
): Promise<ProfileFrame> {
  const userId = caller.userId;
  if (!userId?.startsWith('user:'))
    throw new Forbidden(
      'Profiles need sign-in: without it a name is not an identity a profile could belong to.',
    );
  const [kept, rooms] = await Promise.all([
    deps.directory.profile(userId),
    deps.memberships.list(userId, DIRECTORY_LIMITS.profileRooms),
  ]);
  const avatar = change.avatar && (await keptAvatar(deps.avatars, userId, change.avatar));
  const profile = {
    userId,
    ...(kept?.displayName !== undefined && { displayName: kept.displayName }),
    ...(kept?.status && { status: kept.status }),
    ...(kept?.avatar && { avatar: kept.avatar }),
    ...(change.displayName !== undefined && { displayName: change.displayName }),
    ...(change.status !== undefined && { status: change.status }),
    ...(avatar && { avatar }),
  };
  if (change.status === '') delete profile.status;
  if (change.avatar === null) delete profile.avatar;
  await deps.directory.saveProfile({ ...profile, updatedAt: deps.now().toISOString() });
  // A cleared avatar's object goes (its version noncurrent, reaped a day later by the bucket's lifecycle); after the
  // save, so no stored profile names a version being reaped. Failing, it stays stored but shown nowhere: the change
  // itself holds.
  if (change.avatar === null && kept?.avatar?.key === avatarKey(userId))
    await deps.avatars
      .remove(avatarKey(userId))
      .catch((error) => logger.warn('a cleared avatar was not deleted', { error: String(error) }));
  // Told with its avatar's GET signed once: every member of these rooms may show it.
  const shown = await shownProfile(profile, deps.avatars);
  const events = rooms.map((m) =>
    roomFrameEvent(m.roomId, {
      type: 'profile',
      ...shown,
      roomId: m.roomId,
      // Whose rows to update: the member's key there, as its messages carry it; the name is the one it last entered
      // under, which someone else may show now.
      authorKey: memberKey(m.roomId, userId),
      username: m.username ?? caller.chosenName ?? caller.username,
    } satisfies ProfileFrame),
  );
  for (let i = 0; i < events.length; i += 10) {
    try {
      await deps.events.publish(events.slice(i, i + 10));
    } catch (error) {
      logger.warn('a profile change was not told to some rooms', { error: String(error) });
    }
  }
  // The person's own other devices, in a room or not, show the same profile at once: the reply's frame, pushed.
  const answer: ProfileFrame = { type: 'profile', ...shown };
  if (deps.otherDevices) await tellOtherDevices(deps.otherDevices, caller, answer);
  return answer;
}
