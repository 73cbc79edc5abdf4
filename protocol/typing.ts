/**
 * Typing indicators (docs/PROTOCOL.md, "Typing"): ephemeral, never stored, one frame per member per heartbeat.
 *
 * A member that keeps typing sends `{"action":"typing"}` at most once per heartbeat interval (the deployment's
 * TypingIntervalSeconds); the others of its room get a `typing` frame saying for how long to show it. A receiver
 * drops a typist once that time passes without another frame, when it sends a message, or on a `typing: false`
 * frame, so no "stopped" frame is needed for the indicator to end.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** Actions with no reply: the server answers only a refusal, with an `error` frame. */
export const ONE_WAY_ACTIONS = ['typing'] as const;
export type OneWayAction = (typeof ONE_WAY_ACTIONS)[number];

/** How long past the heartbeat interval a receiver keeps showing a typist, for a heartbeat that is late. */
export const TYPING_GRACE_MS = 2000;

/** `typing` true (or absent): the member is typing, a heartbeat; false: it stopped (the input was cleared). */
export interface TypingRequest {
  action: 'typing';
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  typing?: boolean;
}

/**
 * A member of the room is typing (`typing: true`, show it for `expiresInMs` unless another frame comes first) or
 * stopped (`typing: false`). Never sent to the typist itself.
 */
export interface TypingFrame {
  type: 'typing';
  roomId: string;
  username: string;
  /**
   * The typist's key in the room, as its messages carry it (`authorKey`): a client hides the typing of a person it
   * blocked, as it hides their messages (the block list's `hiddenKeys`).
   */
  authorKey?: string;
  typing: boolean;
  /** With `typing: true`: the heartbeat interval plus TYPING_GRACE_MS. */
  expiresInMs?: number;
  /**
   * With `typing: true`: when the server relayed it (epoch ms). A heartbeat relayed before its typist's message (whose
   * `sentAt` is later) can arrive after that message; a client drops it rather than show a typist who has sent.
   */
  at?: number;
}

/** The `typing` field of a typing action: true unless it says false; undefined when it is not a boolean. */
export function typingFlag(body: Record<string, unknown>): boolean | undefined {
  const { typing } = body;
  if (typing === undefined) return true;
  return typeof typing === 'boolean' ? typing : undefined;
}
