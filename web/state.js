// The browser chat's view state, shared by app.js and the modules it is split into.

/** What the view needs beyond the client: who we are, which room is on screen, unread count. */
export const state = {
  /** The name messages go out under: the server's (from the sign-in token) when signed in, else the typed one. */
  username: null,
  /** Signed in (AuthMode cognito/oidc): the token names the user, the page never asks for a name. */
  signedIn: false,
  /** The sign-in part of /config.json (`{ mode, issuer, clientId, adminGroup }`) when signed in: sign-out needs it. */
  auth: null,
  /** Signed in as a member of the stack's admin group: the page links to the broadcast page. */
  isAdmin: false,
  wsBaseUrl: null,
  /** The deployment's typing heartbeat (config.json typingIntervalSeconds), else the client's default. */
  typingHeartbeatMs: undefined,
  /** The roomcast client (client/roomcast.ts); replaced when the name changes. */
  chat: null,
  conn: 'connecting', // connecting | online | reconnecting | offline | unconfigured | signin (sign-in lapsed)
  everOnline: false,
  reconnectAt: 0,
  countdownTimer: null,
  shownRoom: null,
  /** Our key in the room on screen (joined's memberKey): messages with this authorKey are ours, whatever their name. */
  memberKey: null,
  /** A room opened from "Your rooms" with unread messages, and the read position they follow (messages.js). */
  firstUnread: null,
  /** Messages from others that came to the room on screen while the tab was hidden. */
  unread: 0,
  /** Unread messages in the member's other rooms ("Your rooms", myrooms.js); `unreadMore`: at least that many. */
  unreadElsewhere: 0,
  unreadMore: false,
  /** Rooms this page created: it shows their owner controls (the server checks ownership on every action). */
  owned: new Set(),
  /** Rooms a `mention` frame named us in since we last opened them: "Your rooms" marks them "@" (mentions.js). */
  mentionedRooms: new Set(),
  /** Why the client was moved to the lobby (removed, room closed): shown once the lobby is on screen. */
  notice: null,
};

/**
 * Whether message `m` is the reader's own: by its author's key in the room when both are known (someone else may show
 * the same name after we left), else by name.
 */
export function isOwn(m) {
  if (m.authorKey && state.memberKey) return m.authorKey === state.memberKey;
  return m.username === state.username;
}

/**
 * Moves the page to another room one at a time, in the order asked: each starts once the one before has answered.
 * Two at once race: the page would show the room whose reply came last while the server kept the one whose move
 * came last, so a click on a listed room made while the page was still opening the room of its address could end
 * in the other room. `move` starts the request (a join, a direct message, a new room, a leave).
 */
let moving = Promise.resolve();
export function inTurn(move) {
  const turn = moving.then(move, move);
  moving = turn.catch(() => {});
  return turn;
}
