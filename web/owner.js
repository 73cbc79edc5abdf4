// The room owner's controls: a new invite link, removing a member, closing the room. The page shows them only in
// rooms it created; the server checks ownership on every action (FORBIDDEN otherwise).
import { confirmAction } from './confirm.js';
import { setHashRoom } from './names.js';
import { roomWords } from './roomWords.js';
import { state } from './state.js';
import { closeSidebar, ERROR_TITLES, toast, ui } from './ui.js';

/** Owner: takes a member out of the room; the invite link changes so theirs no longer works. */
function removeMember(name, say) {
  state.chat
    ?.removeMember(name)
    .then(({ removed }) => {
      setHashRoom(state.shownRoom);
      say(
        removed > 0
          ? `You removed ${name}. The invite link changed: share the new one with the others.`
          : `${name} had already left. The invite link changed.`,
        'leave',
      );
      state.chat?.who().catch(() => {});
    })
    .catch((err) => toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not remove' }));
}

/** Wires the owner's buttons; `say` adds a system line to the timeline. Returns what a member's Remove does. */
export function bindOwnerControls(say) {
  ui.rotateKey.addEventListener('click', () =>
    state.chat
      ?.rotateKey()
      .then(({ roomId }) => {
        setHashRoom(roomId);
        toast('Old invite links no longer work. Copy the new link to share it.', {
          kind: 'info',
          title: 'New invite link',
        });
      })
      .catch((err) => toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not change the link' })),
  );
  ui.closeRoom.addEventListener('click', () => {
    state.notice = `You closed ${roomWords(state.shownRoom)}. Nobody can join or post there any more.`;
    state.chat?.closeRoom().catch((err) => {
      state.notice = null;
      toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not close the room' });
    });
    closeSidebar();
  });
  // Asked first: a Remove cannot be taken back, and it changes the invite link everyone else holds.
  return (name) =>
    confirmAction({
      title: `Remove ${name}?`,
      text: `${name} leaves ${roomWords(state.shownRoom)} and can no longer read or post here. The invite link changes too: links shared before stop working, so share the new one with the others.`,
      confirm: 'Remove',
    }).then((yes) => yes && removeMember(name, say));
}
