// The web chat's service worker: it shows the push notifications the server sends while no tab of this chat is
// connected (docs/PROTOCOL.md, "Push notifications"). A push is `{type: 'push', reason, roomId, seq, username, text}`
// with the room's `roomName` when it has one, or `direct: true` in a direct-message room, decrypted by the browser;
// its title names who and where, and a click opens (or focuses) the chat on that room.
const TITLES = {
  mention: (name) => `${name} mentioned you`,
  dm: (name) => `${name} sent you a message`,
  thread: (name) => `${name} replied in a thread you follow`,
};

/** The title: a direct message is from its sender alone; elsewhere the room by its name, or by its code unnamed. */
function titleOf(push) {
  const name = push.username ?? 'Someone';
  if (push.direct) return TITLES.dm(name);
  const said = (TITLES[push.reason] ?? TITLES.mention)(name);
  if (push.roomName) return `${said} in #${push.roomName}`;
  return push.roomId ? `${said} in room ${push.roomId}` : said;
}

self.addEventListener('push', (event) => {
  let push = {};
  try {
    push = event.data ? event.data.json() : {};
  } catch {
    push = { text: event.data ? event.data.text() : '' };
  }
  const title = titleOf(push);
  event.waitUntil(
    self.registration.showNotification(title, {
      body: push.text ?? '',
      // One notification per room: a later push about the room replaces the one still shown.
      tag: `room-${push.roomId ?? ''}`,
      data: { roomId: push.roomId },
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const roomId = event.notification.data?.roomId;
  const url = new URL(roomId ? `./#room=${encodeURIComponent(roomId)}` : './', self.registration.scope).href;
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      const open = tabs.find((tab) => tab.url.startsWith(self.registration.scope));
      if (open) return open.navigate(url).then((tab) => tab?.focus());
      return self.clients.openWindow(url);
    }),
  );
});
