import { featureHandler } from '#core/features';
import { directoryRoutes } from '#directory/index';
import { moderationRoutes } from '#moderation/index';
import { profileRoutes } from '#profiles/index';
import { handler as createroom } from './createroom';
import { handler as joinroom } from './joinroom';
import { handler as leaveroom } from './leaveroom';
import { handler as myrooms } from './myrooms';
import { handler as subscribe } from './subscribe';
import { handler as who } from './who';
import { membershipStore } from './wiring';

/**
 * The rooms feature: entering, following and leaving rooms, the caller's list of rooms and who is in one, and the
 * routes of the features this function hosts (the directory's, profiles', moderation's); one function routed by
 * route key (core/features.ts).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [
  createroom,
  joinroom,
  leaveroom,
  subscribe,
  myrooms,
  who,
  // listrooms, setroom: the directory feature's routes (directory/index.ts).
  ...directoryRoutes,
  // setprofile: the profiles feature's route (profiles/index.ts), told the user's rooms by the memberships store.
  ...profileRoutes(membershipStore),
  // The owner's and moderators' powers (moderation/index.ts): the memberships store keeps the owner's rotated key
  // and forgets a removed member.
  ...moderationRoutes(membershipStore),
];
export const handler = featureHandler('rooms', routes);
