import type { ProfileRooms } from './ports';
import { setprofileRoute } from './setprofile';

/**
 * The profiles feature's routes, for the route table of the function that hosts them (rooms/index.ts): `setprofile`
 * (a signed-in user's display name, status and avatar, told to the user's rooms and other devices). The host hands in
 * its memberships store (`ProfileRooms`, ports.ts), so profiles import no rooms module; its `myrooms` gives the
 * caller's own profile through `ownProfile` (ownProfile.ts).
 */
export const profileRoutes = (memberships: () => ProfileRooms) => [setprofileRoute(memberships)];
