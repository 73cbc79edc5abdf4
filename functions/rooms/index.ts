import { featureHandler } from '#core/features';
import { handler as ban } from './ban';
import { handler as closeroom } from './closeroom';
import { handler as createroom } from './createroom';
import { handler as joinroom } from './joinroom';
import { handler as leaveroom } from './leaveroom';
import { handler as listrooms } from './listrooms';
import { handler as mute } from './mute';
import { handler as myrooms } from './myrooms';
import { handler as removemember } from './removemember';
import { handler as rotatekey } from './rotatekey';
import { handler as setprofile } from './setprofile';
import { handler as setrole } from './setrole';
import { handler as setroom } from './setroom';
import { handler as slowmode } from './slowmode';
import { handler as subscribe } from './subscribe';
import { handler as unban } from './unban';
import { handler as unmute } from './unmute';
import { handler as who } from './who';

/**
 * The rooms feature: entering, following and leaving rooms, the owner's powers, the caller's list of rooms and who
 * is in one; one function routed by route key (core/features.ts).
 */
export const handler = featureHandler('rooms', {
  createroom,
  joinroom,
  leaveroom,
  // Up to 100 rooms, five at a time (subscribing.ts): more than a join's 10 s, inside the gateway's 29 s integration
  // timeout; the route answers BUSY before it (websocket.ts) and a retry is harmless. RoomsFunction's Timeout.
  subscribe: { entry: subscribe, seconds: 20 },
  closeroom,
  removemember,
  rotatekey,
  myrooms,
  who,
  listrooms,
  setroom,
  setprofile,
  setrole,
  mute,
  unmute,
  ban,
  unban,
  slowmode,
});
