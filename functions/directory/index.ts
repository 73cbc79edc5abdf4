import { handler as listrooms } from './listrooms';
import { handler as setroom } from './setroom';

/**
 * The directory feature's routes, for the route table of the function that hosts them (rooms/index.ts): `listrooms`
 * (a page of public rooms by name) and `setroom` (the owner's name, topic, visibility and who pins, with the
 * directory entries they move). createroom (rooms/createroom.ts) names a new room through `withRoomInfo`, and a join
 * shows its name through `roomInfoOf` (directory.ts).
 */
export const directoryRoutes = [listrooms, setroom];
