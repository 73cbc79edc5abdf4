// The web chat's service worker: it shows the push notifications the server sends while no tab of this chat is
// connected (docs/PROTOCOL.md, "Push notifications"). A push is `{type: 'push', reason, roomId, seq, username, text}`,
// decrypted by the browser; a click opens (or focuses) the chat on that room.
const TITLES = {
  mention: (name) => `${name} mentioned you`,
  dm: (name) => `${name} sent you a direct message`,
  thread: (name) => `${name} replied in a thread you follow`,
};

self.addEventListener('push', (event) => {
  let push = {};
  try {
    push = event.data ? event.data.json() : {};
  } catch {
    push = { text: event.data ? event.data.text() : '' };
  }
  const title = (TITLES[push.reason] ?? TITLES.mention)(push.username ?? 'Someone');
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
