/**
 * What every request and reply carries: the `requestId` a reply echoes, and the `roomId` of a request about one
 * room. Shared by the modules that declare routes; not exported from protocol/index.ts.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** Every request may carry a `requestId`; the reply and any error frame echo it. */
export interface Request {
  requestId?: string;
}
/**
 * A request about one room: `roomId` names any room the connection follows (NOT_SUBSCRIBED for one it does not);
 * absent, the room it shows.
 */
export interface RoomRequest extends Request {
  roomId?: string;
}
/** Fields every reply to a request carries when the request had them. */
export interface Reply {
  requestId?: string;
}
