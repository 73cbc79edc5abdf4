// Typing aids in the composer: `@` offers the room's members by what follows it, `:shortcode:` becomes its emoji
// (emojibase's shortcodes, the emoji picker's data: emoji-data.json from this origin), and ↑ in an empty composer
// edits your last message.
import { state } from './state.js';
import { h, ui } from './ui.js';

/** Names offered at most. */
const SUGGESTIONS = 8;

// ---------------------------------------------------------------- :shortcode:

/** shortcode -> emoji, once emoji-data.json is read (asked for the first time a `:` is typed). */
let shortcodes = null;
let loading = null;

function loadShortcodes(then) {
  loading ??= fetch(new URL('./emoji-data.json', import.meta.url))
    .then((r) => {
      if (!r.ok) throw new Error(`emoji data: HTTP ${r.status}`);
      return r.json();
    })
    .then((list) => {
      shortcodes = new Map();
      for (const e of list) for (const code of e.shortcodes ?? []) shortcodes.set(code, e.emoji);
    })
    .catch(() => {
      loading = null; // asked again at the next `:`
    });
  loading.then(then);
}

const SHORTCODE = /(^|[\s(])(:[a-z0-9_+-]+:)/gi;

/** `text` with each known `:shortcode:` (after a space or at the start, outside `code`) as its emoji. */
export function withEmoji(text) {
  if (!shortcodes || !text.includes(':')) return text;
  // Code spans and blocks keep their colons: `a:b:c` in code is code.
  return text
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(SHORTCODE, (all, before, code) => {
            const emoji = shortcodes.get(code.slice(1, -1).toLowerCase());
            return emoji ? `${before}${emoji}` : all;
          }),
    )
    .join('');
}

/** Replaces shortcodes in the composer, keeping the caret where it was relative to the text after it. */
function replaceShortcodes() {
  const input = ui.composerInput;
  const before = input.value;
  const next = withEmoji(before);
  if (next === before) return;
  const fromEnd = before.length - input.selectionEnd;
  input.value = next;
  const at = Math.max(0, next.length - fromEnd);
  input.setSelectionRange(at, at);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

// ---------------------------------------------------------------- @-autocomplete

let list = null;
let options = [];
let selected = 0;

/** The `@prefix` just before the caret, if one is being typed: its start and the prefix. */
function mentionAtCaret() {
  const input = ui.composerInput;
  if (input.selectionStart !== input.selectionEnd) return null;
  const upto = input.value.slice(0, input.selectionStart);
  const match = /(^|\s)@([^\s@]{0,32})$/u.exec(upto);
  return match ? { start: upto.length - match[2].length - 1, prefix: match[2] } : null;
}

function closeSuggestions() {
  options = [];
  if (list) list.hidden = true;
  ui.composerInput.removeAttribute('aria-activedescendant');
  ui.composerInput.setAttribute('aria-expanded', 'false');
}

function showSelected() {
  for (const [i, li] of [...list.children].entries())
    li.setAttribute('aria-selected', String(i === selected));
  const active = list.children[selected];
  if (active) ui.composerInput.setAttribute('aria-activedescendant', active.id);
}

function suggest() {
  const at = mentionAtCaret();
  const members = state.chat?.members ?? [];
  if (!at || state.shownRoom === null) return closeSuggestions();
  const prefix = at.prefix.toLocaleLowerCase();
  options = members
    .filter((name) => name !== state.username && name.toLocaleLowerCase().startsWith(prefix))
    .sort((a, b) => a.localeCompare(b))
    .slice(0, SUGGESTIONS);
  if (options.length === 0) return closeSuggestions();
  if (!list) {
    list = h('ul', 'mention-suggest');
    list.id = 'mention-suggest';
    list.dataset.testid = 'mention-suggestions';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Members to mention');
    // A press on an option would take the focus from the composer first: the pick happens without it leaving.
    list.addEventListener('mousedown', (ev) => ev.preventDefault());
    list.addEventListener('click', (ev) => {
      const li = ev.target.closest('li');
      if (li) pick(Number(li.dataset.index));
    });
    ui.composer.append(list);
    ui.composerInput.setAttribute('aria-controls', list.id);
  }
  selected = Math.min(selected, options.length - 1);
  list.replaceChildren(
    ...options.map((name, i) => {
      const li = h('li', 'mention-option');
      li.id = `mention-option-${i}`;
      li.dataset.index = String(i);
      li.dataset.testid = 'mention-option';
      li.setAttribute('role', 'option');
      li.append(h('bdi', null, `@${name}`));
      return li;
    }),
  );
  list.hidden = false;
  ui.composerInput.setAttribute('aria-expanded', 'true');
  showSelected();
}

/** Puts `@name ` in place of the `@prefix` being typed. */
function pick(index) {
  const name = options[index];
  const at = mentionAtCaret();
  if (name === undefined || !at) return closeSuggestions();
  const input = ui.composerInput;
  const end = input.selectionStart;
  input.value = `${input.value.slice(0, at.start)}@${name} ${input.value.slice(end)}`;
  const caret = at.start + name.length + 2;
  input.setSelectionRange(caret, caret);
  closeSuggestions();
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

// ---------------------------------------------------------------- ↑ edits the last message

/** Opens the editor of your newest message on screen, if it has one (changes.js draws Edit on your own only). */
function editLast() {
  const rows = ui.messageList.querySelectorAll('.msg.is-own[data-seq]:not(.is-deleted)');
  const edit = rows[rows.length - 1]?.querySelector('[data-testid="edit-message"]');
  if (!edit) return false;
  edit.click();
  return true;
}

/**
 * Binds the aids to the composer; called before the composer's own keys are bound, so a key the suggestions take
 * (Enter, Tab, arrows, Escape) goes no further.
 */
export function bindComposeHelpers() {
  const input = ui.composerInput;
  input.setAttribute('aria-autocomplete', 'list');
  input.addEventListener('keydown', (ev) => {
    if (ev.isComposing) return;
    if (options.length > 0) {
      const step = { ArrowDown: 1, ArrowUp: -1 }[ev.key];
      if (step) selected = (selected + step + options.length) % options.length;
      if (step) showSelected();
      else if (ev.key === 'Enter' || ev.key === 'Tab') pick(selected);
      else if (ev.key === 'Escape') closeSuggestions();
      else return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      return;
    }
    if (ev.key === 'ArrowUp' && input.value === '' && !ev.shiftKey && !ev.altKey && editLast()) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  });
  input.addEventListener('input', (ev) => {
    if (ev.isTrusted && input.value.includes(':')) {
      if (shortcodes) replaceShortcodes();
      else loadShortcodes(replaceShortcodes);
    }
    suggest();
  });
  input.addEventListener('blur', closeSuggestions);
  input.addEventListener('click', suggest);
}
