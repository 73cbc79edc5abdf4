/**
 * Each action's request and reply frame, derived from the protocol's own unions: `RequestOf<'pinmessage'>` is
 * PinMessageRequest (the member of the client frames whose `action` is it) and `ReplyOf<'pinmessage'>` is
 * ChangedFrame (the server frame whose `type` REPLY_TYPE names for it). A route's handler (functions/core/websocket.ts
 * routeHandler) and the client library's requests (client/requests.ts) are typed by these, so a handler reading a
 * field its request does not have, or answering another frame than its reply, fails `tsc`, as does a client sending
 * such a request or reading such a reply.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */
import type { Action, ClientFrame, REPLY_TYPE, ServerFrame, ServerFrameType } from './index';
import type { OneWayAction, TypingRequest } from './typing';

/** Every frame a client sends: the requests answered by a reply, and the one-way ones. */
export type AnyRequest = ClientFrame | TypingRequest;

/** The request frame of an action, as protocol/ declares it. */
export type RequestOf<A extends Action | OneWayAction> = Extract<AnyRequest, { action: A }>;

/** The frame that answers an action (errors aside): the server frame of the type REPLY_TYPE names. */
export type ReplyOf<A extends Action> = Extract<ServerFrame, { type: (typeof REPLY_TYPE)[A] }>;

/** The actions a frame type answers: `AnsweredBy<'joined'>` is `createroom`, `joinroom` and `opendm`. */
export type AnsweredBy<T extends ServerFrameType> = {
  [A in Action]: (typeof REPLY_TYPE)[A] extends T ? A : never;
}[Action];

/**
 * A request as a client hands it to be sent: without `requestId`, which the sender adds. Spread over a union of
 * actions, so `AskOf<ChangeAction>` is one of the four change requests.
 */
export type AskOf<A extends Action> = A extends Action ? Omit<RequestOf<A>, 'requestId'> : never;

/** The actions with no request frame in protocol/, and those whose reply type names no server frame: none. */
type WithoutRequest = { [A in Action | OneWayAction]: [RequestOf<A>] extends [never] ? A : never }[
  | Action
  | OneWayAction];
type WithoutReply = { [A in Action]: [ReplyOf<A>] extends [never] ? A : never }[Action];
/** True when every action has its request and reply; tsc names the actions without them otherwise. */
export type ProtocolComplete = [WithoutRequest | WithoutReply] extends [never]
  ? true
  : { missing: WithoutRequest | WithoutReply };
export const PROTOCOL_COMPLETE: ProtocolComplete = true;
