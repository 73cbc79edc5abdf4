import { requireConnection } from '#core/identity/connections';
import type { ChatPorts } from '#core/ports';
import { type AvatarSigner, type ProfileReader, shownProfile } from '#core/profiles';
import type { Profile } from '#protocol';

/**
 * The caller's own profile (display name, status, avatar), given with its `myrooms` answer: every page asks
 * `myrooms` on each connect, so a reloaded page shows the person's profile in its own form and beside its own
 * messages at once, not only after it changes it (docs/PROTOCOL.md, "Read positions, your rooms, direct messages").
 * Signed-in users only (a guest has no profile); none when nothing is set. One read of the user's profile item
 * (the same BatchGetItem a join's authors take), beside the memberships' Query; its avatar's GET signed as every
 * profile given is (core/profiles.ts).
 */
export async function ownProfile(
  deps: Pick<ChatPorts, 'connections'> & { profiles: ProfileReader; avatars: AvatarSigner },
  connectionId: string,
): Promise<Profile | undefined> {
  const { userId } = await requireConnection(deps, connectionId);
  if (!userId?.startsWith('user:')) return undefined;
  const kept = (await deps.profiles.of([userId])).get(userId);
  if (!kept || (kept.displayName === undefined && kept.status === undefined && kept.avatar === undefined))
    return undefined;
  return shownProfile({ ...kept, userId }, deps.avatars);
}
