// Editing, deleting and reacting to messages in the web chat. The client library's RoomMessages store keeps each
// message of the room in its final state (edits, tombstones, reaction counts, also after a resume); this module
// draws that state onto the message rows messages.js renders, and offers the actions: Edit and Delete on your own
// messages, Delete on every message of a room you created (the server decides: NOT_AUTHOR, EDIT_WINDOW_PASSED…),
// and reactions. All text goes in with textContent.

import { pickEmoji } from './emojiPicker.js';
import { registerFeature } from './features.js';
import { drawText } from './format.js';
import { moderation } from './moderation.js';
import { canPin, paintPins } from './pins.js';
import { quoteFrom, refreshQuotes, startReply } from './replies.js';
import { RoomMessages } from './roomcast.js';
import { readable } from './roomWords.js';
import { bindSafety, blockAuthor, isBlocked, reportMessage } from './safety.js';
import { state } from './state.js';
import { openThread, paintThreads } from './threads.js';
import { ERROR_TITLES, h, toast, ui } from './ui.js';

/** The reactions offered under every message; any other single emoji a member gives shows as a chip too. */
const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉'];

let store = null;

const failed = (what) => (err) =>
  toast(readable(err.message), { title: ERROR_TITLES[err.code] || `Could not ${what}` });

function rowOf(seq) {
  return ui.messageList.querySelector(`[data-testid="message"][data-seq="${seq}"]`);
}

/** Puts a message's final state on its row: text, the edited mark or the tombstone, reactions, actions. */
function paint(row, m) {
  // A blocked person's message is simply hidden (safety.js).
  row.hidden = isBlocked(m);
  // A reply to this person's own reaction can carry the same changeSeq as the room's change event that came first,
  // which could not know `mine`: the reactions this person gave are part of what was painted.
  // Our role too: a member made moderator gets Delete on the messages already shown; and whether we may pin (the
  // owner's `membersPin`), so members get Pin when the owner allows it.
  const painted = `${m.changeSeq ?? 0}|${(m.reactions ?? []).filter((r) => r.mine).map((r) => r.reaction)}|${moderation.role}|${canPin()}`;
  if (row.dataset.changeSeq === painted && row.querySelector('.msg-actions')) return;
  row.dataset.changeSeq = painted;
  const bubble = row.querySelector('.msg-bubble');
  const text = row.querySelector('.msg-text');
  if (!bubble || !text || row.querySelector('[data-testid="edit-input"]')) return;
  row.classList.toggle('is-deleted', Boolean(m.deleted));
  if (m.deleted) {
    text.replaceChildren(
      m.deleted === 'owner'
        ? 'Message removed by the room owner'
        : m.deleted === 'moderator'
          ? 'Message removed by a moderator'
          : 'Message deleted',
    );
    text.dataset.testid = 'tombstone';
    text.classList.remove('emoji-only');
  } else drawText(text, m.text);
  row.querySelector('.msg-edited')?.remove();
  row.querySelector('.msg-pinned')?.remove();
  if (m.pinnedAt && !m.deleted) {
    const mark = h('span', 'msg-pinned', '📌 Pinned');
    mark.dataset.testid = 'pinned-mark';
    mark.title = `Pinned by ${m.pinnedBy ?? 'the owner'} ${new Date(m.pinnedAt).toLocaleString()}`;
    row.querySelector('.msg-meta')?.append(mark);
  }
  if (m.editedAt && !m.deleted) {
    const mark = h('span', 'msg-edited', '(edited)');
    mark.dataset.testid = 'edited-mark';
    mark.title = `Edited ${new Date(m.editedAt).toLocaleString()}`;
    row.querySelector('.msg-meta')?.append(mark);
  }
  const list = row.querySelector('.msg-reactions');
  row.querySelector('.msg-actions')?.remove();
  // A tombstone quotes nothing and names nobody.
  if (m.deleted) row.querySelector('[data-testid="reply-quote"]')?.remove();
  if (m.deleted) row.classList.remove('is-mention');
  if (m.deleted) return list?.remove();
  const reactions = reactionsOf(m, list);
  if (bubble.nextElementSibling !== reactions) bubble.after(reactions);
  reactions.after(actionsOf(row, m));
}

/** Whether this person gives `reaction` to message `seq` as the store holds it now. */
const givenNow = (seq, reaction) =>
  store?.get(seq)?.reactions?.some((r) => r.reaction === reaction && r.mine) === true;

/**
 * Who gave a reaction, in words: its named givers (the server names its first CHANGE_LIMITS.reactorsNamed, as shown in
 * the room; this person as "you", first) and how many others: "you, alice and 3 others", "bob", "2 people".
 */
export function whoReacted({ count, mine, by }, me = state.username) {
  const named = (by ?? []).filter((name) => name !== me);
  const names = [...(mine ? ['you'] : []), ...named].slice(0, Math.max(0, count));
  const others = count - names.length;
  if (names.length === 0) return others === 1 ? '1 person' : `${others} people`;
  if (others > 0) return `${names.join(', ')} and ${others} ${others === 1 ? 'other' : 'others'}`;
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Long-press on a touch screen (its context menu): says who reacted, as hovering the chip's title does. */
function tellWho(ev) {
  ev.preventDefault();
  toast(ev.currentTarget.title, { kind: 'info', title: 'Reactions', timeout: 4000 });
}

/**
 * The message's reaction chips, updated in place: a chip replaced between a press and its release would lose that
 * click, so a chip stays the same element while its reaction stays, and reads the store when clicked.
 */
function reactionsOf(m, held) {
  const list = held ?? h('div', 'msg-reactions');
  const chips = new Map([...list.querySelectorAll('.reaction-chip')].map((c) => [c.dataset.reaction, c]));
  const shown = [];
  for (const given of m.reactions ?? []) {
    const { reaction, count, mine } = given;
    let chip = chips.get(reaction);
    if (!chip) {
      chip = h('button', 'reaction-chip');
      chip.type = 'button';
      chip.dataset.testid = 'reaction-chip';
      chip.dataset.reaction = reaction;
      chip.append(h('span', 'reaction-emoji', reaction), h('span', 'reaction-count'));
      chip.addEventListener('click', () => react(m.seq, reaction, givenNow(m.seq, reaction)));
      chip.addEventListener('contextmenu', tellWho);
    }
    // Who gave it, on hover (title), to a screen reader and on keyboard focus (changes.css shows data-who).
    const who = `${reaction} from ${whoReacted(given)}`;
    chip.title = who;
    chip.dataset.who = who;
    chip.setAttribute('aria-label', who);
    chip.classList.toggle('is-mine', Boolean(mine));
    chip.dataset.count = String(count);
    chip.setAttribute('aria-pressed', mine ? 'true' : 'false');
    chip.querySelector('.reaction-count').textContent = String(count);
    shown.push(chip);
  }
  const current = [...list.children];
  if (current.length !== shown.length || shown.some((chip, i) => current[i] !== chip))
    list.replaceChildren(...shown);
  return list;
}

function actionsOf(row, m) {
  const actions = h('div', 'msg-actions');
  const button = (label, testid, onClick, title) => {
    const b = h('button', 'msg-action', label);
    b.type = 'button';
    b.dataset.testid = testid;
    if (title) b.title = title;
    b.addEventListener('click', onClick);
    actions.append(b);
  };
  for (const reaction of QUICK_REACTIONS)
    button(reaction, 'react-button', () => react(m.seq, reaction, false), `React ${reaction}`);
  button(
    '＋',
    'more-reactions',
    (ev) =>
      pickEmoji(ev.currentTarget).then((reaction) => {
        if (!reaction) return;
        // Picking one you gave already takes it back, as its chip does.
        react(m.seq, reaction, givenNow(m.seq, reaction));
      }),
    'More reactions…',
  );
  button('Reply', 'reply-message', () => startReply(m));
  if (m.threadOf === undefined)
    button('Thread', 'thread-message', () => openThread(m.seq), 'Reply in a thread');
  if (canPin())
    button(m.pinnedAt ? 'Unpin' : 'Pin', 'pin-message', () =>
      (m.pinnedAt ? state.chat?.messages.unpin(m.seq) : state.chat?.messages.pin(m.seq))?.catch(
        failed('pin'),
      ),
    );
  const own = row.classList.contains('is-own');
  if (!own) {
    button('Block', 'block-author', () => blockAuthor(m), `Hide ${m.username}'s messages everywhere`);
    button('Report', 'report-message', () => reportMessage(m));
  }
  if (own) button('Edit', 'edit-message', () => startEdit(row, m));
  // The room's owner and its moderators delete any message (moderation.js); the server holds the rule.
  if (own || state.owned.has(state.shownRoom) || moderation.role !== 'member')
    button('Delete', 'delete-message', (ev) => askThenDelete(ev.currentTarget, m.seq));
  return actions;
}

/** How long a "Delete?" stays armed for the confirming click. */
const CONFIRM_MS = 4000;

/**
 * A delete cannot be undone (the message becomes a tombstone for everyone), so it asks first: the first click turns
 * the button into "Delete? Click again", the second within CONFIRM_MS deletes; otherwise it goes back.
 */
function askThenDelete(btn, seq) {
  if (btn.dataset.armed !== 'true') {
    btn.dataset.armed = 'true';
    btn.textContent = 'Delete? Click again';
    btn.classList.add('is-armed');
    setTimeout(() => {
      btn.dataset.armed = 'false';
      btn.textContent = 'Delete';
      btn.classList.remove('is-armed');
    }, CONFIRM_MS);
    return;
  }
  btn.dataset.armed = 'false';
  state.chat?.messages.delete(seq).catch(failed('delete'));
}

/**
 * Gives or takes back a reaction as the person sees it: a click while an earlier click of the same chip is still on
 * its way toggles what that click asked for, not the chip's `mine`, which changes only when the reply arrives.
 */
function react(seq, reaction, mine) {
  const messages = state.chat?.messages;
  const given = messages?.wanted(seq, reaction) ?? mine;
  (given ? messages?.unreact(seq, reaction) : messages?.react(seq, reaction))?.catch(failed('react'));
}

/** Edits in place: Enter saves, Escape (or an empty text) cancels. */
function startEdit(row, m) {
  const text = row.querySelector('.msg-text');
  if (!text) return;
  const input = h('input', 'msg-edit');
  input.dataset.testid = 'edit-input';
  input.value = m.text;
  input.setAttribute('aria-label', 'Edit your message');
  text.replaceWith(input);
  input.focus();
  const done = () => {
    input.replaceWith(text);
    const now = store?.get(m.seq);
    row.dataset.changeSeq = '';
    if (now) paint(row, now);
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') done();
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const next = input.value.trim();
    if (!next || next === m.text) return done();
    state.chat?.messages.edit(m.seq, next).then(done, (err) => {
      done();
      failed('edit')(err);
    });
  });
}

function repaint() {
  for (const m of store?.list() ?? []) {
    const row = rowOf(m.seq);
    if (row) paint(row, m);
  }
  refreshQuotes();
  paintPins(store);
  paintThreads(store);
}

/** How long a touch must rest on a message to show its actions (a tap scrolls or follows a link as ever). */
const LONG_PRESS_MS = 450;

/**
 * A message's actions show on hover and keyboard focus (CSS) and, on touch screens, after a long press on it; a
 * touch elsewhere hides them again.
 */
function bindLongPress() {
  let timer = null;
  ui.messageList.addEventListener('touchstart', (ev) => {
    const row = ev.target.closest('.msg');
    for (const shown of ui.messageList.querySelectorAll('.msg.show-actions'))
      if (shown !== row) shown.classList.remove('show-actions');
    clearTimeout(timer);
    if (row) timer = setTimeout(() => row.classList.add('show-actions'), LONG_PRESS_MS);
  });
  for (const end of ['touchend', 'touchmove', 'touchcancel'])
    ui.messageList.addEventListener(end, () => clearTimeout(timer));
}

/** Follows a new client's room with a store of its messages, and repaints rows as they change. */
function watchMessageChanges(chat) {
  store = new RoomMessages(chat);
  quoteFrom(store);
  store.on(() => queueMicrotask(repaint));
  bindSafety(chat, repaint);
}

registerFeature('changes', {
  bind: bindLongPress,
  watch: watchMessageChanges,
  on: {
    // After moderation.js applied it (a `before` handler): a new role changes the actions every row offers.
    moderation: (f) => f.type === 'rolechanged' && queueMicrotask(repaint),
    // After directory.js knew it (a `before` handler): a room's `membersPin` changes who is offered Pin.
    frame: ({ frame }) => frame?.type === 'roomchanged' && queueMicrotask(repaint),
  },
});
