import { featureHandler } from '#core/features';
import { directoryRoutes } from '#directory/index';
import { profileRoutes } from '#profiles/index';
import { handler as ban } from './ban';
import { handler as closeroom } from './closeroom';
import { handler as createroom } from './createroom';
import { handler as joinroom } from './joinroom';
import { handler as leaveroom } from './leaveroom';
import { handler as mute } from './mute';
import { handler as myrooms } from './myrooms';
import { handler as removemember } from './removemember';
import { handler as roomwords } from './roomwords';
import { handler as rotatekey } from './rotatekey';
import { handler as setrole } from './setrole';
import { handler as slowmode } from './slowmode';
import { handler as subscribe } from './subscribe';
import { handler as unban } from './unban';
import { handler as unmute } from './unmute';
import { handler as who } from './who';
import { membershipStore } from './wiring';

/**
 * The rooms feature: entering, following and leaving rooms, the owner's powers, the caller's list of rooms and who
 * is in one, and the routes of the features this function hosts (the directory's, profiles'); one function routed
 * by route key (core/features.ts).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [
  createroom,
  joinroom,
  leaveroom,
  subscribe,
  closeroom,
  removemember,
  rotatekey,
  myrooms,
  who,
  setrole,
  mute,
  unmute,
  ban,
  unban,
  slowmode,
  roomwords,
  // listrooms, setroom: the directory feature's routes (directory/index.ts).
  ...directoryRoutes,
  // setprofile: the profiles feature's route (profiles/index.ts), told the user's rooms by the memberships store.
  ...profileRoutes(membershipStore),
];
export const handler = featureHandler('rooms', routes);
