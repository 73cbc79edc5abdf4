// roomcast browser chat. Plain ES module: no framework, no build step, no external requests.
// Protocol: DESIGN.md section 2. All user-provided text is rendered with textContent.

const LOBBY = 'lobby';
const ROOM_CODE_RE = /^[A-HJ-NP-Z2-9]{6}$/;
const MAX_MESSAGE_BYTES = 4096;
const MAX_USERNAME_CHARS = 32;
const ACK_TIMEOUT_MS = 5000;
const MAX_SEND_ATTEMPTS = 6;
const HISTORY_LIMIT = 100;
const LATEST_LIMIT = 50;
const HISTORY_TIMEOUT_MS = 5000;
const JOIN_TIMEOUT_MS = 10000;
const NEW_ROOM = '*new*';
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10000;
const STABLE_CONNECTION_MS = 3000;
const GROUP_WINDOW_MS = 5 * 60 * 1000;
const TOAST_MS = 6000;
const STORAGE_KEY = 'roomcast.username';
const JOIN_HINT = '6 characters: letters (no I or O) and digits 2–9.';

const encoder = new TextEncoder();
const byteLength = (s) => encoder.encode(s).length;
const byId = (id) => document.getElementById(id);

const ui = {
  app: byId('app'),
  sidebar: byId('sidebar'),
  scrim: byId('scrim'),
  menuButton: byId('menu-button'),
  sidebarClose: byId('sidebar-close'),
  roomCode: byId('room-code'),
  roomKind: byId('room-kind'),
  roomHint: byId('room-hint'),
  invite: byId('invite'),
  inviteCode: byId('invite-code'),
  copyCode: byId('copy-code'),
  copyLink: byId('copy-link'),
  leaveButton: byId('leave-button'),
  createButton: byId('create-room'),
  joinForm: byId('join-form'),
  joinInput: byId('join-input'),
  joinButton: byId('join-button'),
  joinHint: byId('join-hint'),
  memberList: byId('member-list'),
  memberCount: byId('member-count'),
  refreshMembers: byId('refresh-members'),
  detailsPanel: byId('details-panel'),
  infoList: byId('info-list'),
  meAvatar: byId('me-avatar'),
  meName: byId('me-name'),
  changeName: byId('change-name'),
  roomTitle: byId('room-title'),
  roomSub: byId('room-sub'),
  status: byId('status'),
  statusLabel: byId('status-label'),
  retryNow: byId('retry-now'),
  announcement: byId('announcement'),
  announcementText: byId('announcement-text'),
  announcementClose: byId('announcement-close'),
  messagesWrap: byId('messages-wrap'),
  scroller: byId('messages-scroll'),
  emptyTitle: byId('empty-title'),
  emptyText: byId('empty-text'),
  messageList: byId('message-list'),
  jumpButton: byId('jump-button'),
  composer: byId('composer'),
  composerInput: byId('composer-input'),
  counter: byId('composer-counter'),
  sendButton: byId('send-button'),
  dialog: byId('username-dialog'),
  usernameForm: byId('username-form'),
  usernameInput: byId('username-input'),
  usernameHint: byId('username-hint'),
  usernameCancel: byId('username-cancel'),
  usernameTitle: byId('username-title'),
  usernameText: byId('username-text'),
  toasts: byId('toasts'),
};

const state = {
  username: null,
  wsBaseUrl: null,
  ws: null,
  everOnline: false,
  conn: 'connecting', // connecting | online | reconnecting | offline | unconfigured
  attempt: 0,
  reconnectTimer: null,
  reconnectAt: 0,
  countdownTimer: null,
  stableTimer: null,
  /** Room the server has this connection in, once established; null while unknown. */
  room: null,
  /** True once the connection's room is established (lobby on open, or after `joined`). */
  ready: false,
  /** Room code we asked to join (joinroom / createroom sentinel) and are waiting on. */
  joining: null,
  /** Frames for the room being joined that arrive before `joined`. */
  earlyFrames: [],
  /** Room whose messages are on screen. */
  shownRoom: null,
  /** seq -> { msg, el } for the shown room. */
  messages: new Map(),
  /** Highest seq such that every seq up to it (from the first one we hold) is known. */
  lastSeq: null,
  historyRequest: null, // { afterSeq, timer }
  joinTimer: null,
  members: [],
  memberCount: null,
  /** clientMsgId -> { clientMsgId, roomId, text, attempts, timer, el, createdAt, failed, hidden } */
  outbox: new Map(),
  myMessageIds: new Set(),
  whoTimer: null,
  unread: 0,
};

// ---------------------------------------------------------------- helpers

function newClientMsgId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function hueOf(name) {
  let x = 0;
  for (const ch of String(name)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x % 360;
}

function initialOf(name) {
  const first = [...String(name).trim()][0];
  return first ? first.toUpperCase() : '?';
}

function makeAvatar(name, extraClass = '') {
  const a = h('span', `avatar ${extraClass}`.trim(), initialOf(name));
  a.setAttribute('aria-hidden', 'true');
  a.style.setProperty('--hue', String(hueOf(name)));
  return a;
}

function toDate(sentAt) {
  if (sentAt === undefined || sentAt === null || sentAt === '') return null;
  let d;
  if (typeof sentAt === 'number') d = new Date(sentAt < 1e12 ? sentAt * 1000 : sentAt);
  else if (/^\d+$/.test(String(sentAt))) return toDate(Number(sentAt));
  else d = new Date(String(sentAt));
  return Number.isNaN(d.getTime()) ? null : d;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function normalizeRoomInput(raw) {
  let s = String(raw || '').trim();
  // Accept a pasted invite link (…#room=ABC234) as well as a bare code.
  const m = s.match(/[#&?]room=([^&#\s]+)/i);
  if (m) s = decodeURIComponent(m[1]);
  return s.replace(/[\s-]/g, '').toUpperCase();
}

function isValidRoomCode(code) {
  return ROOM_CODE_RE.test(code);
}

function validateUsername(raw) {
  const name = String(raw || '').trim();
  if (!name) return { error: 'Enter a name.' };
  if ([...name].length > MAX_USERNAME_CHARS) return { error: `At most ${MAX_USERNAME_CHARS} characters.` };
  if (/\p{Cc}/u.test(name)) return { error: 'No control characters, please.' };
  return { name };
}

function loadUsername() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    return v && !validateUsername(v).error ? v.trim() : null;
  } catch {
    return null;
  }
}

function saveUsername(name) {
  try {
    localStorage.setItem(STORAGE_KEY, name);
  } catch {
    /* private mode: keep it for this tab only */
  }
}

function roomFromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const room = (params.get('room') || '').trim().toUpperCase();
  return isValidRoomCode(room) ? room : null;
}

function setHashRoom(roomId) {
  const url = new URL(location.href);
  url.hash = roomId && roomId !== LOBBY ? `room=${roomId}` : '';
  const next = url.toString().replace(/#$/, '');
  if (next !== location.href) history.replaceState(history.state, '', next);
}

function inviteLink(roomId) {
  const url = new URL(location.href);
  url.hash = `room=${roomId}`;
  return url.toString();
}

// ---------------------------------------------------------------- toasts

function toast(message, { title, kind = 'error', timeout = TOAST_MS } = {}) {
  const t = h('div', `toast toast-${kind}`);
  t.dataset.testid = 'toast';
  t.dataset.kind = kind;
  t.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const body = h('div', 'toast-body');
  if (title) body.append(h('strong', 'toast-title', title));
  body.append(h('span', 'toast-text', message));
  const close = h('button', 'toast-close', '×');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss notification');
  const dismiss = () => {
    t.classList.add('leaving');
    setTimeout(() => t.remove(), 180);
  };
  close.addEventListener('click', dismiss);
  t.append(body, close);
  ui.toasts.append(t);
  while (ui.toasts.children.length > 4) ui.toasts.firstElementChild.remove();
  if (timeout) setTimeout(dismiss, timeout);
  return t;
}

const ERROR_TITLES = {
  BAD_REQUEST: 'Request rejected',
  ROOM_NOT_FOUND: 'Room not found',
  MESSAGE_TOO_LARGE: 'Message too long',
  RATE_LIMITED: 'Slow down',
  INTERNAL: 'Server error',
};

// ---------------------------------------------------------------- connection status

function setConn(conn) {
  state.conn = conn;
  ui.status.dataset.state = conn;
  renderStatusLabel();
  ui.retryNow.hidden = conn !== 'reconnecting';
  document.body.dataset.conn = conn;
  updateComposerState();
}

function renderStatusLabel() {
  let label;
  switch (state.conn) {
    case 'online':
      label = 'Online';
      break;
    case 'connecting':
      label = 'Connecting…';
      break;
    case 'reconnecting': {
      const s = Math.ceil((state.reconnectAt - Date.now()) / 1000);
      label = state.reconnectTimer && s > 0 ? `Reconnecting in ${s}s…` : 'Reconnecting…';
      break;
    }
    case 'offline':
      label = 'Offline';
      break;
    case 'unconfigured':
      label = 'Not configured';
      break;
    default:
      label = state.conn;
  }
  ui.statusLabel.textContent = label;
}

// ---------------------------------------------------------------- WebSocket

async function resolveWsUrl() {
  const fromQuery = new URLSearchParams(location.search).get('ws');
  if (fromQuery?.trim()) return fromQuery.trim();
  const fromConfig = window.ROOMCAST_WS_URL;
  if (typeof fromConfig === 'string' && fromConfig.trim()) return fromConfig.trim();
  try {
    const res = await fetch('/config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (res.ok) {
      const cfg = await res.json();
      if (cfg && typeof cfg.wsUrl === 'string' && cfg.wsUrl.trim())
        return (await import('./signin.js')).withSignIn(cfg);
    }
  } catch {
    /* fall through */
  }
  return null;
}

function socketUrl(base, username) {
  const url = new URL(base, location.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error(`not a WebSocket URL: ${base}`);
  url.searchParams.set('username', username);
  return url.toString();
}

function connect() {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.countdownTimer);
  state.reconnectTimer = null;
  if (!state.wsBaseUrl || !state.username) return;
  if (state.ws && state.ws.readyState <= WebSocket.OPEN) return;

  let url;
  try {
    url = socketUrl(state.wsBaseUrl, state.username);
  } catch (err) {
    setConn('unconfigured');
    showUnconfigured(String(err.message || err));
    return;
  }
  setConn(state.attempt === 0 && !state.everOnline ? 'connecting' : 'reconnecting');
  const ws = new WebSocket(url);
  state.ws = ws;
  ws.addEventListener('open', () => {
    if (state.ws !== ws) return;
    onOpen();
  });
  ws.addEventListener('message', (ev) => {
    if (state.ws !== ws) return;
    let frame;
    try {
      frame = JSON.parse(ev.data);
    } catch {
      return;
    }
    if (frame && typeof frame === 'object') handleFrame(frame);
  });
  ws.addEventListener('close', () => {
    if (state.ws !== ws) return;
    onClose();
  });
}

function send(obj) {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(obj));
  return true;
}

function onOpen() {
  state.everOnline = true;
  setConn('online');
  clearTimeout(state.stableTimer);
  state.stableTimer = setTimeout(() => {
    state.attempt = 0;
  }, STABLE_CONNECTION_MS);

  // Every connection starts in the lobby; go back to the room in the hash, if any.
  state.room = LOBBY;
  state.ready = false;
  state.joining = null;
  state.earlyFrames = [];
  clearHistoryRequest();
  const wanted = roomFromHash();
  if (wanted) {
    requestJoin(wanted);
  } else {
    enterLobby();
  }
  if (ui.detailsPanel.open) send({ action: 'info' });
}

function onClose() {
  state.ws = null;
  state.ready = false;
  state.joining = null;
  clearTimeout(state.joinTimer);
  clearTimeout(state.stableTimer);
  clearHistoryRequest();
  for (const entry of state.outbox.values()) {
    clearTimeout(entry.timer);
    entry.timer = null;
  }
  scheduleReconnect();
}

function scheduleReconnect() {
  clearTimeout(state.reconnectTimer);
  clearInterval(state.countdownTimer);
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** state.attempt);
  const jittered = Math.min(BACKOFF_MAX_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
  state.attempt += 1;
  state.reconnectAt = Date.now() + jittered;
  state.reconnectTimer = setTimeout(connect, jittered);
  state.countdownTimer = setInterval(renderStatusLabel, 500);
  setConn(navigator.onLine === false ? 'offline' : 'reconnecting');
}

function reconnectNow() {
  if (state.ws && state.ws.readyState <= WebSocket.OPEN) return;
  state.attempt = 0;
  connect();
}

function restartConnection() {
  const old = state.ws;
  state.ws = null;
  state.ready = false;
  if (old) old.close(1000, 'restart');
  for (const entry of state.outbox.values()) clearTimeout(entry.timer);
  state.attempt = 0;
  connect();
}

// ---------------------------------------------------------------- rooms

function requestJoin(roomId) {
  state.joining = roomId;
  state.earlyFrames = [];
  if (state.shownRoom !== roomId) setRoomHeader(roomId, { pending: true });
  send({ action: 'joinroom', roomId });
  watchJoin(roomId, () => requestJoin(roomId));
}

function requestCreate() {
  state.joining = NEW_ROOM;
  state.earlyFrames = [];
  send({ action: 'createroom' });
  watchJoin(NEW_ROOM, null);
}

/** No `joined`/`error` in time: a rejoin is retried, a user's request is given up (the room stays as it was). */
function watchJoin(joining, retry) {
  clearTimeout(state.joinTimer);
  state.joinTimer = setTimeout(() => {
    if (state.joining !== joining || !state.ws) return;
    if (!state.ready && retry) {
      retry();
      return;
    }
    state.joining = null;
    state.earlyFrames = [];
    if (state.shownRoom) setRoomHeader(state.shownRoom);
    toast('The server did not answer in time. Please try again.', { title: 'No answer' });
    flushOutbox();
  }, JOIN_TIMEOUT_MS);
}

function requestLeave() {
  if (state.room === LOBBY) return;
  send({ action: 'leaveroom' });
}

function enterLobby() {
  const wasShown = state.shownRoom === LOBBY;
  state.room = LOBBY;
  state.ready = true;
  state.joining = null;
  setHashRoom(LOBBY);
  if (!wasShown) {
    resetRoomView(LOBBY);
    // No `joined` for the lobby: ask for its latest messages (history without afterSeq).
    requestHistory(null);
  } else if (state.lastSeq !== null) {
    // Back in the lobby after a reconnect: fetch what we missed.
    requestHistory(state.lastSeq);
  }
  send({ action: 'who' });
  flushOutbox();
}

function resetRoomView(roomId) {
  state.shownRoom = roomId;
  state.messages.clear();
  state.lastSeq = null;
  state.members = [];
  state.unread = 0;
  clearHistoryRequest();
  ui.messageList.replaceChildren();
  // Unsent messages belong to the room they were written in.
  let dropped = 0;
  for (const [id, entry] of state.outbox) {
    if (entry.roomId !== roomId) {
      clearTimeout(entry.timer);
      entry.el?.remove();
      state.outbox.delete(id);
      dropped += 1;
    }
  }
  if (dropped)
    toast(`${dropped} unsent message${dropped > 1 ? 's were' : ' was'} discarded.`, { kind: 'info' });
  setRoomHeader(roomId);
  renderMembers();
  updateEmpty();
  updateComposerState();
  updateTitle();
}

function setRoomHeader(roomId, { pending = false } = {}) {
  const isLobby = roomId === LOBBY;
  ui.roomCode.textContent = isLobby ? LOBBY : roomId;
  ui.roomCode.dataset.roomId = roomId;
  ui.roomCode.classList.toggle('is-lobby', isLobby);
  ui.roomKind.textContent = pending ? 'joining…' : isLobby ? 'public' : 'private room';
  ui.invite.hidden = isLobby || pending;
  ui.inviteCode.textContent = isLobby ? '' : roomId;
  ui.leaveButton.hidden = isLobby;
  ui.roomHint.hidden = !isLobby;
  ui.roomTitle.textContent = isLobby ? 'Lobby' : `Room ${roomId}`;
  ui.roomSub.textContent = isLobby ? 'Everyone who connects starts here' : 'Share the code to invite people';
  ui.composerInput.placeholder = isLobby ? 'Message the lobby…' : `Message room ${roomId}…`;
  ui.emptyTitle.textContent = isLobby ? 'Welcome to the lobby' : 'This room is quiet';
  ui.emptyText.textContent = isLobby
    ? 'Everyone who connects lands here. Say hello, create a private room, or join one with a code.'
    : `Invite people with the code ${roomId} — messages appear here instantly.`;
  updateTitle();
}

function onJoined(f) {
  const roomId = String(f.roomId || '');
  if (!roomId) return;
  const rejoin = state.shownRoom === roomId && state.lastSeq !== null;
  state.room = roomId;
  state.ready = true;
  state.joining = null;
  clearTimeout(state.joinTimer);
  setHashRoom(roomId);
  if (state.shownRoom !== roomId) resetRoomView(roomId);
  setRoomHeader(roomId);

  const near = isNearBottom();
  const history = Array.isArray(f.history) ? f.history.filter(isMessageFrame) : [];
  let added = 0;
  for (const m of history) if (upsertMessage(m)) added += 1;
  const serverLast = Number.isFinite(f.lastSeq) ? f.lastSeq : null;
  if (!rejoin) {
    let maxH = null;
    for (const m of history) maxH = maxH === null ? m.seq : Math.max(maxH, m.seq);
    state.lastSeq = maxH ?? serverLast ?? 0;
  }
  advanceLastSeq();
  checkGap(serverLast);
  setMembers(f.members, f.memberCount);

  const early = state.earlyFrames;
  state.earlyFrames = [];
  for (const frame of early) if (frame.roomId === roomId) handleFrame(frame);

  if (!rejoin || near) scrollToBottom();
  else if (added) ui.jumpButton.hidden = false;
  updateEmpty();
  flushOutbox();
  if (normalizeRoomInput(ui.joinInput.value) === roomId) ui.joinInput.value = '';
  closeSidebar();
}

function onLeft() {
  // `left {roomId}`: the connection is back in the lobby.
  enterLobby();
}

// ---------------------------------------------------------------- members

function setMembers(list, count) {
  state.members = Array.isArray(list) ? [...new Set(list.map(String))] : [];
  state.memberCount = Number.isInteger(count) ? count : null;
  renderMembers();
}

function renderMembers() {
  const me = state.username;
  const names = [...state.members].sort((a, b) => {
    if (a === me) return -1;
    if (b === me) return 1;
    return a.localeCompare(b, undefined, { sensitivity: 'base' });
  });
  const items = names.map((name) => {
    const li = h('li', 'member');
    li.dataset.testid = 'member-item';
    li.dataset.username = name;
    const avatar = makeAvatar(name, 'avatar-sm');
    const label = h('span', 'member-name', name);
    li.append(avatar, label);
    if (name === me) {
      li.classList.add('is-me');
      li.append(h('span', 'member-you', 'you'));
    }
    return li;
  });
  ui.memberList.replaceChildren(...items);
  ui.memberCount.textContent = String(names.length);
  // memberCount (when the server sends it) counts connections: one person may have several tabs open.
  const conns = state.memberCount ?? 0;
  ui.memberCount.title = conns > names.length ? `${names.length} people, ${conns} connections` : '';
}

function onPresence(f) {
  if (f.roomId !== state.shownRoom) return;
  const name = String(f.username ?? '');
  if (!name) return;
  state.memberCount = null;
  if (f.event === 'join') {
    if (!state.members.includes(name)) state.members.push(name);
    renderMembers();
    if (name !== state.username) addSystemLine(`${name} joined`, 'join');
  } else if (f.event === 'leave') {
    state.members = state.members.filter((m) => m !== name);
    renderMembers();
    if (name !== state.username) addSystemLine(`${name} left`, 'leave');
    // The same name may still be connected from another tab: confirm with the server.
    clearTimeout(state.whoTimer);
    state.whoTimer = setTimeout(() => send({ action: 'who' }), 400);
  }
}

// ---------------------------------------------------------------- messages

function isMessageFrame(m) {
  return m && typeof m === 'object' && Number.isInteger(m.seq);
}

function isOwn(msg) {
  return msg.username === state.username || state.myMessageIds.has(msg.messageId);
}

function renderMessage(msg, { pending = false } = {}) {
  const own = pending || isOwn(msg);
  const row = h('div', `msg${own ? ' is-own' : ''}`);
  row.dataset.testid = 'message';
  row.dataset.username = msg.username;
  if (Number.isInteger(msg.seq)) row.dataset.seq = String(msg.seq);
  if (msg.messageId) row.dataset.messageId = msg.messageId;
  row.dataset.status = pending ? 'pending' : 'sent';
  const date = toDate(msg.sentAt);
  row.dataset.time = date ? String(date.getTime()) : '';

  const avatar = makeAvatar(msg.username);
  const body = h('div', 'msg-body');
  const meta = h('div', 'msg-meta');
  meta.append(h('span', 'msg-author', own ? `${msg.username} (you)` : msg.username));
  const time = h('time', 'msg-time', date ? timeFmt.format(date) : '');
  if (date) {
    time.dateTime = date.toISOString();
    time.title = fullFmt.format(date);
  }
  meta.append(time);
  const bubble = h('div', 'msg-bubble');
  bubble.append(h('p', 'msg-text', msg.text));
  const status = h('div', 'msg-status');
  status.setAttribute('aria-live', 'polite');
  body.append(meta, bubble, status);
  row.append(avatar, body);
  return row;
}

function setMessageStatus(row, status) {
  row.dataset.status = status;
  row.classList.toggle('is-pending', status === 'pending');
  row.classList.toggle('is-failed', status === 'failed');
  const box = row.querySelector('.msg-status');
  if (!box) return;
  box.replaceChildren();
  if (status === 'pending') {
    box.append(h('span', 'spinner'), h('span', null, 'Sending…'));
  } else if (status === 'failed') {
    box.append(h('span', null, 'Not delivered. '));
    const retry = h('button', 'link-button', 'Retry');
    retry.type = 'button';
    retry.dataset.testid = 'retry-message';
    box.append(retry);
  }
}

/** Insert or update a confirmed message of the shown room; returns true if it was new. */
function upsertMessage(m, { provisional = false } = {}) {
  const existing = state.messages.get(m.seq);
  if (existing) {
    if (existing.provisional && !provisional) {
      // We rendered it from our ack; take the server's copy (authoritative sentAt etc.).
      const el = renderMessage(m);
      existing.el.replaceWith(el);
      state.messages.set(m.seq, { msg: m, el, provisional: false });
      regroupAround(el);
    }
    return false;
  }
  const el = renderMessage(m);
  state.messages.set(m.seq, { msg: m, el, provisional });
  insertSorted(el, m.seq);
  regroupAround(el);
  return true;
}

function insertSorted(el, seq) {
  // Confirmed messages sorted by seq; system lines stay where they fell; pending messages stay last.
  const children = ui.messageList.children;
  let before = null;
  for (let i = children.length - 1; i >= 0; i -= 1) {
    const c = children[i];
    if (c.dataset.seq !== undefined) {
      if (Number(c.dataset.seq) > seq) before = c;
      else break;
    } else if (c.dataset.status === 'pending' || c.dataset.status === 'failed') {
      before = c;
    }
  }
  ui.messageList.insertBefore(el, before);
}

function regroupAround(el) {
  regroup(el);
  if (el.nextElementSibling) regroup(el.nextElementSibling);
}

function regroup(el) {
  if (!el.classList.contains('msg')) return;
  const prev = el.previousElementSibling;
  let cont = false;
  if (prev?.classList.contains('msg') && prev.dataset.username === el.dataset.username) {
    const a = Number(prev.dataset.time);
    const b = Number(el.dataset.time);
    cont = !a || !b || Math.abs(b - a) < GROUP_WINDOW_MS;
  }
  el.classList.toggle('is-cont', cont);
}

function addSystemLine(text, kind = 'info') {
  const line = h('div', `sys sys-${kind}`);
  line.dataset.testid = kind === 'broadcast' ? 'broadcast-line' : 'system-line';
  line.append(h('span', 'sys-text', text));
  const near = isNearBottom();
  // Keep pending messages last.
  const firstPending = ui.messageList.querySelector('[data-status="pending"],[data-status="failed"]');
  ui.messageList.insertBefore(line, firstPending);
  if (firstPending) regroup(firstPending);
  updateEmpty();
  if (near) scrollToBottom();
  return line;
}

function onMessage(f) {
  if (!isMessageFrame(f)) return;
  if (state.joining && f.roomId === state.joining) {
    state.earlyFrames.push(f);
    return;
  }
  if (f.roomId !== state.shownRoom) return;
  const near = isNearBottom();
  const own = isOwn(f);
  if (own) hideMatchingPending(f);
  const added = upsertMessage(f);
  if (!added) return;
  if (state.lastSeq === null) {
    advanceLastSeq();
  } else if (f.seq > state.lastSeq + 1) {
    requestHistory(state.lastSeq);
  } else {
    advanceLastSeq();
  }
  updateEmpty();
  if (near || own) scrollToBottom();
  else ui.jumpButton.hidden = false;
  if (document.hidden && !own) {
    state.unread += 1;
    updateTitle();
  }
}

function hideMatchingPending(f) {
  // Our own message can be fanned out to us before its ack arrives: hide the pending copy. The entry
  // stays in the outbox until the ack (which tells the real seq), so nothing is lost if the guess is wrong.
  for (const entry of state.outbox.values()) {
    if (!entry.hidden && entry.roomId === f.roomId && entry.text === f.text) {
      entry.hidden = true;
      entry.el?.remove();
      return;
    }
  }
}

function advanceLastSeq() {
  if (state.messages.size === 0) return;
  if (state.lastSeq === null) state.lastSeq = Math.min(...state.messages.keys()) - 1;
  while (state.messages.has(state.lastSeq + 1)) state.lastSeq += 1;
}

function maxKnownSeq() {
  let max = null;
  for (const seq of state.messages.keys()) max = max === null ? seq : Math.max(max, seq);
  return max;
}

function checkGap(serverLast = null) {
  if (state.lastSeq === null) return;
  const target = Math.max(maxKnownSeq() ?? -Infinity, serverLast ?? -Infinity);
  if (target > state.lastSeq) requestHistory(state.lastSeq);
}

function requestHistory(afterSeq) {
  if (!state.ready) return;
  if (state.historyRequest && state.historyRequest.afterSeq === afterSeq) return;
  clearHistoryRequest();
  const timer = setTimeout(() => {
    // No answer: allow another try on the next gap or check.
    state.historyRequest = null;
    checkGap();
  }, HISTORY_TIMEOUT_MS);
  state.historyRequest = { afterSeq, timer, roomId: state.shownRoom };
  // afterSeq null: the latest messages (used for the lobby, which has no `joined` frame).
  send(
    afterSeq === null
      ? { action: 'history', limit: LATEST_LIMIT }
      : { action: 'history', afterSeq, limit: HISTORY_LIMIT },
  );
}

function clearHistoryRequest() {
  if (state.historyRequest) clearTimeout(state.historyRequest.timer);
  state.historyRequest = null;
}

function onHistory(f) {
  if (f.roomId !== state.shownRoom) return;
  const req = state.historyRequest;
  clearHistoryRequest();
  const list = Array.isArray(f.messages) ? f.messages.filter(isMessageFrame) : [];
  const near = isNearBottom();
  let added = 0;
  for (const m of list) if (upsertMessage(m)) added += 1;
  const before = state.lastSeq;
  advanceLastSeq();
  if (req && req.afterSeq !== null && list.length >= HISTORY_LIMIT) {
    // There may be more after this page.
    requestHistory(state.lastSeq);
  } else if (state.lastSeq === before && req && req.afterSeq !== null && maxKnownSeq() > state.lastSeq) {
    // The server has nothing to fill the hole (e.g. expired messages): skip past it.
    state.lastSeq = maxKnownSeq();
  } else {
    checkGap();
  }
  updateEmpty();
  if (near) scrollToBottom();
  else if (added) ui.jumpButton.hidden = false;
}

// ---------------------------------------------------------------- sending

function composerText() {
  return ui.composerInput.value.trim();
}

function updateComposerState() {
  const text = composerText();
  const bytes = byteLength(text);
  const over = bytes > MAX_MESSAGE_BYTES;
  ui.counter.textContent = bytes >= MAX_MESSAGE_BYTES - 512 || over ? `${bytes} / ${MAX_MESSAGE_BYTES}` : '';
  ui.counter.title = `${bytes} of ${MAX_MESSAGE_BYTES} bytes`;
  ui.counter.classList.toggle('is-over', over);
  ui.composer.classList.toggle('is-over', over);
  ui.composerInput.setAttribute('aria-invalid', over ? 'true' : 'false');
  const canSend = bytes >= 1 && !over && state.shownRoom !== null && state.username !== null;
  ui.sendButton.disabled = !canSend;
}

function autosize() {
  const ta = ui.composerInput;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 200)}px`;
}

function submitComposer() {
  const text = composerText();
  const bytes = byteLength(text);
  if (bytes < 1) return;
  if (bytes > MAX_MESSAGE_BYTES) {
    toast(`Messages can be at most ${MAX_MESSAGE_BYTES} bytes (this one is ${bytes}).`, {
      title: ERROR_TITLES.MESSAGE_TOO_LARGE,
    });
    return;
  }
  if (state.shownRoom === null) return;
  const entry = {
    clientMsgId: newClientMsgId(),
    roomId: state.shownRoom,
    text,
    attempts: 0,
    timer: null,
    el: null,
    createdAt: new Date().toISOString(),
    failed: false,
    hidden: false,
  };
  entry.el = renderMessage({ username: state.username, text, sentAt: entry.createdAt }, { pending: true });
  entry.el.dataset.clientMsgId = entry.clientMsgId;
  setMessageStatus(entry.el, 'pending');
  ui.messageList.append(entry.el);
  regroup(entry.el);
  state.outbox.set(entry.clientMsgId, entry);
  ui.composerInput.value = '';
  autosize();
  updateComposerState();
  updateEmpty();
  scrollToBottom();
  trySend(entry);
}

function canSendTo(entry) {
  return state.ready && state.room === entry.roomId && !state.joining;
}

function trySend(entry) {
  clearTimeout(entry.timer);
  entry.timer = null;
  if (!canSendTo(entry)) return; // flushOutbox sends it once the room is (re)established
  if (entry.attempts >= MAX_SEND_ATTEMPTS) {
    markFailed(entry);
    return;
  }
  entry.attempts += 1;
  send({ action: 'sendmessage', message: entry.text, clientMsgId: entry.clientMsgId });
  entry.timer = setTimeout(() => {
    entry.timer = null;
    if (state.outbox.get(entry.clientMsgId) === entry) trySend(entry); // same clientMsgId: server dedupes
  }, ACK_TIMEOUT_MS);
}

function markFailed(entry) {
  entry.failed = true;
  if (entry.hidden) {
    entry.hidden = false;
  }
  if (entry.el && !entry.el.isConnected) ui.messageList.append(entry.el);
  if (entry.el) setMessageStatus(entry.el, 'failed');
}

function flushOutbox() {
  for (const entry of state.outbox.values()) {
    if (entry.failed) continue;
    if (entry.roomId === state.room) trySend(entry);
  }
}

function onAck(f) {
  if (f.messageId) state.myMessageIds.add(f.messageId);
  const entry = state.outbox.get(f.clientMsgId);
  if (!entry) return;
  clearTimeout(entry.timer);
  state.outbox.delete(f.clientMsgId);
  entry.el?.remove();
  if (f.roomId !== state.shownRoom || !Number.isInteger(f.seq)) return;
  const existing = state.messages.get(f.seq);
  if (existing) {
    if (!existing.el.classList.contains('is-own')) {
      const el = renderMessage(existing.msg);
      existing.el.replaceWith(el);
      existing.el = el;
      regroupAround(el);
    }
    return;
  }
  const near = isNearBottom();
  const msg = {
    roomId: f.roomId,
    seq: f.seq,
    messageId: f.messageId,
    username: state.username,
    text: entry.text,
    sentAt: entry.createdAt,
  };
  upsertMessage(msg, { provisional: true });
  if (state.lastSeq !== null && f.seq > state.lastSeq + 1) {
    // Messages between are usually still in flight; the gap check asks history for them.
    requestHistory(state.lastSeq);
  } else {
    advanceLastSeq();
  }
  if (near) scrollToBottom();
}

// ---------------------------------------------------------------- other frames

function onBroadcast(f) {
  const text = String(f.text ?? '');
  ui.announcementText.textContent = text;
  ui.announcement.hidden = false;
  const line = addSystemLine(`📣 ${text}`, 'broadcast');
  if (f.messageId) line.dataset.messageId = f.messageId;
}

function onError(f) {
  const code = String(f.code || 'ERROR');
  const message = String(f.message || 'Something went wrong.');
  toast(message, { title: ERROR_TITLES[code] || code, kind: 'error' });
  if (f.action === 'joinroom' || f.action === 'createroom') {
    const failed = state.joining;
    state.joining = null;
    clearTimeout(state.joinTimer);
    state.earlyFrames = [];
    if (state.ready) {
      // Still in the previous room: keep showing it.
      setHashRoom(state.room);
      setRoomHeader(state.shownRoom ?? state.room);
    } else if ((code === 'RATE_LIMITED' || code === 'INTERNAL') && failed && failed !== NEW_ROOM) {
      // A rejoin hit a transient error: try again shortly rather than dropping the room.
      const ws = state.ws;
      setTimeout(() => {
        if (state.ws === ws && !state.ready && !state.joining) requestJoin(failed);
      }, 2000);
    } else {
      // A rejoin (reload, shared link, reconnect) failed for good: the connection is in the lobby.
      if (failed && roomFromHash() === failed) setHashRoom(LOBBY);
      enterLobby();
    }
    if (failed && normalizeRoomInput(ui.joinInput.value) === failed) {
      ui.joinInput.setAttribute('aria-invalid', 'true');
      ui.joinHint.classList.add('is-error');
      ui.joinHint.textContent = message;
    }
  }
}

function onInfo(f) {
  const rows = [];
  const add = (k, v) => {
    if (v === undefined || v === null || v === '') return;
    const div = h('div');
    div.append(h('dt', null, k), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v)));
    rows.push(div);
  };
  add('Connection', f.connectionId);
  const connectedAt = toDate(f.connectedAt);
  add('Connected', connectedAt ? fullFmt.format(connectedAt) : f.connectedAt);
  const last = toDate(f.lastActiveAt);
  add('Last active', last ? fullFmt.format(last) : f.lastActiveAt);
  add('Source IP', f.sourceIp);
  add('User agent', f.userAgent);
  add('Usage', f.usage);
  add('Room', state.room);
  add('Endpoint', state.wsBaseUrl);
  ui.infoList.replaceChildren(...rows);
}

function handleFrame(f) {
  switch (f.type) {
    case 'joined':
      return onJoined(f);
    case 'left':
      return onLeft();
    case 'message':
      return onMessage(f);
    case 'ack':
      return onAck(f);
    case 'history':
      return onHistory(f);
    case 'presence':
      return onPresence(f);
    case 'members':
      if (f.roomId === state.shownRoom) setMembers(f.members, f.memberCount);
      return;
    case 'broadcast':
      return onBroadcast(f);
    case 'error':
      return onError(f);
    case 'info':
      return onInfo(f);
    default:
      if (f.type === undefined && Number.isInteger(f.seq) && f.roomId) return onMessage(f);
  }
}

// ---------------------------------------------------------------- view helpers

function isNearBottom() {
  const s = ui.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
}

function scrollToBottom() {
  requestAnimationFrame(() => {
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
    ui.jumpButton.hidden = true;
  });
}

function updateEmpty() {
  ui.messagesWrap.classList.toggle('is-empty', ui.messageList.childElementCount === 0);
}

function updateTitle() {
  const room = state.shownRoom === LOBBY || !state.shownRoom ? 'Lobby' : state.shownRoom;
  document.title = `${state.unread ? `(${state.unread}) ` : ''}${room} · roomcast`;
}

function showUnconfigured(detail) {
  ui.emptyTitle.textContent = 'No server configured';
  ui.emptyText.textContent =
    detail ||
    'Open this page with ?ws=wss://<api>.execute-api.<region>.amazonaws.com/<stage>, set window.ROOMCAST_WS_URL in config.js, or serve /config.json.';
  ui.roomTitle.textContent = 'roomcast';
  ui.roomSub.textContent = '';
  ui.roomCode.textContent = '—';
  ui.roomKind.textContent = 'not connected';
  ui.roomHint.textContent = 'This page does not know which server to talk to yet.';
  ui.messagesWrap.classList.add('is-empty');
}

function openSidebar() {
  ui.app.classList.add('sidebar-open');
  ui.scrim.hidden = false;
  ui.menuButton.setAttribute('aria-expanded', 'true');
  ui.sidebar.querySelector('button, input')?.focus({ preventScroll: true });
}

function closeSidebar() {
  if (!ui.app.classList.contains('sidebar-open')) return;
  ui.app.classList.remove('sidebar-open');
  ui.scrim.hidden = true;
  ui.menuButton.setAttribute('aria-expanded', 'false');
}

async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied to the clipboard.`, { kind: 'success', timeout: 2500 });
  } catch {
    // Clipboard API unavailable (insecure context): select the code so the user can copy it.
    const range = document.createRange();
    range.selectNodeContents(ui.inviteCode);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    toast(`Copy failed — press Ctrl+C to copy the ${what.toLowerCase()}.`, { kind: 'info' });
  }
}

function renderMe() {
  ui.meName.textContent = state.username || '';
  ui.meAvatar.textContent = initialOf(state.username || '?');
  ui.meAvatar.style.setProperty('--hue', String(hueOf(state.username || '?')));
}

// ---------------------------------------------------------------- username dialog

function openUsernameDialog({ first }) {
  ui.usernameTitle.textContent = first ? 'Welcome to roomcast' : 'Change your name';
  ui.usernameText.textContent = first
    ? 'Pick a name people will see next to your messages.'
    : 'Your new name is used from the next message on (you will reconnect).';
  ui.usernameInput.value = state.username || '';
  ui.usernameCancel.hidden = first;
  ui.usernameHint.textContent = `1–${MAX_USERNAME_CHARS} characters.`;
  ui.usernameHint.classList.remove('is-error');
  ui.dialog.dataset.first = first ? 'true' : 'false';
  if (!ui.dialog.open) ui.dialog.showModal();
  ui.usernameInput.focus();
  ui.usernameInput.select();
}

function onUsernameSubmit(ev) {
  ev.preventDefault();
  const { name, error } = validateUsername(ui.usernameInput.value);
  if (error) {
    ui.usernameHint.textContent = error;
    ui.usernameHint.classList.add('is-error');
    ui.usernameInput.setAttribute('aria-invalid', 'true');
    ui.usernameInput.focus();
    return;
  }
  ui.usernameInput.setAttribute('aria-invalid', 'false');
  const changed = name !== state.username;
  state.username = name;
  saveUsername(name);
  renderMe();
  ui.dialog.close();
  updateComposerState();
  if (!state.ws && !state.reconnectTimer) connect();
  else if (changed) restartConnection();
  ui.composerInput.focus();
}

// ---------------------------------------------------------------- wiring

function bindEvents() {
  ui.usernameForm.addEventListener('submit', onUsernameSubmit);
  ui.usernameInput.addEventListener('input', () => {
    ui.usernameHint.classList.remove('is-error');
    ui.usernameInput.removeAttribute('aria-invalid');
  });
  ui.usernameCancel.addEventListener('click', () => ui.dialog.close());
  ui.dialog.addEventListener('cancel', (ev) => {
    if (!state.username) ev.preventDefault(); // a name is required on first visit
  });
  ui.changeName.addEventListener('click', () => openUsernameDialog({ first: false }));

  ui.createButton.addEventListener('click', () => {
    if (!state.ready) {
      toast('Not connected yet — try again in a moment.', { kind: 'info' });
      return;
    }
    requestCreate();
  });

  ui.joinInput.addEventListener('input', () => {
    const pos = ui.joinInput.selectionStart;
    ui.joinInput.value = ui.joinInput.value.toUpperCase();
    ui.joinInput.setSelectionRange(pos, pos);
    ui.joinInput.removeAttribute('aria-invalid');
    ui.joinHint.classList.remove('is-error');
    ui.joinHint.textContent = JOIN_HINT;
  });
  ui.joinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const code = normalizeRoomInput(ui.joinInput.value);
    if (!isValidRoomCode(code)) {
      ui.joinInput.setAttribute('aria-invalid', 'true');
      ui.joinHint.classList.add('is-error');
      ui.joinHint.textContent = code
        ? `“${code.slice(0, 12)}” is not a room code. ${JOIN_HINT}`
        : 'Enter a 6-character room code.';
      ui.joinInput.focus();
      return;
    }
    ui.joinInput.value = code;
    if (code === state.room && state.ready) {
      toast(`You are already in room ${code}.`, { kind: 'info', timeout: 2500 });
      return;
    }
    if (!state.ready) {
      toast('Not connected yet — try again in a moment.', { kind: 'info' });
      return;
    }
    requestJoin(code);
  });

  ui.leaveButton.addEventListener('click', () => {
    requestLeave();
    closeSidebar();
  });
  ui.copyCode.addEventListener('click', () => copyText(state.shownRoom, 'Room code'));
  ui.copyLink.addEventListener('click', () => copyText(inviteLink(state.shownRoom), 'Invite link'));
  ui.refreshMembers.addEventListener('click', () => send({ action: 'who' }));
  ui.detailsPanel.addEventListener('toggle', () => {
    if (ui.detailsPanel.open) send({ action: 'info' });
  });

  ui.composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitComposer();
  });
  ui.composerInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submitComposer();
    }
  });
  ui.composerInput.addEventListener('input', () => {
    autosize();
    updateComposerState();
  });

  ui.messageList.addEventListener('click', (ev) => {
    const btn = ev.target.closest('[data-testid="retry-message"]');
    if (!btn) return;
    const row = btn.closest('.msg');
    const entry = state.outbox.get(row?.dataset.clientMsgId);
    if (!entry) return;
    entry.failed = false;
    entry.attempts = 0;
    setMessageStatus(row, 'pending');
    trySend(entry);
  });

  ui.scroller.addEventListener('scroll', () => {
    if (isNearBottom()) ui.jumpButton.hidden = true;
  });
  ui.jumpButton.addEventListener('click', () => scrollToBottom());
  ui.announcementClose.addEventListener('click', () => {
    ui.announcement.hidden = true;
  });
  ui.retryNow.addEventListener('click', reconnectNow);

  ui.menuButton.addEventListener('click', openSidebar);
  ui.sidebarClose.addEventListener('click', closeSidebar);
  ui.scrim.addEventListener('click', closeSidebar);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeSidebar();
  });

  window.addEventListener('hashchange', () => {
    if (!state.ready) return; // applied on (re)connect
    const wanted = roomFromHash();
    if (wanted && wanted !== state.room) requestJoin(wanted);
    else if (!wanted && state.room !== LOBBY) {
      if (/room=/.test(location.hash)) {
        toast('That link does not contain a valid room code.', { title: 'Bad link' });
        setHashRoom(state.room);
      } else requestLeave();
    }
  });
  window.addEventListener('online', reconnectNow);
  window.addEventListener('offline', () => {
    if (!state.ws) setConn('offline');
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      state.unread = 0;
      updateTitle();
      if (!state.ws) reconnectNow();
    }
  });
}

async function main() {
  bindEvents();
  updateComposerState();
  updateTitle();
  state.username = loadUsername();
  renderMe();
  const url = await resolveWsUrl();
  if (!url) {
    setConn('unconfigured');
    showUnconfigured();
  } else {
    state.wsBaseUrl = url;
  }
  if (!state.username) {
    openUsernameDialog({ first: true });
    return;
  }
  if (state.wsBaseUrl) connect();
}

// A small debugging/testing handle; it exposes no secrets (there are none in the page).
window.roomcast = {
  get state() {
    return state;
  },
  reconnectNow,
};

main();
