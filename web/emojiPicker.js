// The emoji picker for reactions: a small dialog over the page with emojibase's emoji by group and a search by name,
// tag or shortcode. The data (emoji-data.json, from the emoji-picker-element-data package, ~440 KB) is fetched from
// this origin the first time the picker opens. Not the emoji-picker-element web component: it styles itself with a
// <style> element and style attributes, which the page's Content-Security-Policy (style-src 'self') refuses
// (docs/DECISIONS.md). Every name goes in with textContent.
import { h } from './ui.js';

/** emojibase's groups, without 2 (skin-tone components, not emoji of their own), each with its tab's emoji. */
const GROUPS = [
  [0, '😀', 'Smileys'],
  [1, '👋', 'People'],
  [3, '🐻', 'Animals and nature'],
  [4, '🍔', 'Food and drink'],
  [5, '✈️', 'Travel and places'],
  [6, '⚽', 'Activities'],
  [7, '💡', 'Objects'],
  [8, '❤️', 'Symbols'],
  [9, '🏁', 'Flags'],
];
/** Search results shown at most. */
const RESULTS = 120;

const NO_MATCH = 6;

/**
 * How well emoji `e` matches the search `q` (lower is better): its name exactly (🚀 for "rocket"), a tag or shortcode
 * exactly, its name's start, a word of its name, a tag's or shortcode's start, anywhere in its name; NO_MATCH if none.
 */
function rankOf(e, q) {
  const name = e.annotation;
  if (name === q) return 0;
  if (e.tags?.includes(q) || e.shortcodes?.includes(q)) return 1;
  if (name.startsWith(q)) return 2;
  if (name.split(/[\s:-]+/).some((word) => word.startsWith(q))) return 3;
  if (e.tags?.some((t) => t.startsWith(q)) || e.shortcodes?.some((s) => s.startsWith(q))) return 4;
  return name.includes(q) ? 5 : NO_MATCH;
}

let data = null;

async function emoji() {
  data ??= fetch(new URL('./emoji-data.json', import.meta.url)).then((r) => {
    if (!r.ok) throw new Error(`emoji data: HTTP ${r.status}`);
    return r.json();
  });
  try {
    return await data;
  } catch (error) {
    data = null; // asked again next time
    throw error;
  }
}

/** The open picker's closer, if one is open: only one at a time. */
let closeOpen = null;

/** The picker's parts: the dialog, holding the search box, the group tabs and the grid of emoji. */
function pickerParts() {
  const dialog = h('div', 'emoji-picker');
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-label', 'Pick a reaction');
  dialog.dataset.testid = 'emoji-picker';
  const search = h('input', 'emoji-search');
  search.type = 'search';
  search.placeholder = 'Search emoji';
  search.setAttribute('aria-label', 'Search emoji');
  search.dataset.testid = 'emoji-search';
  const tabs = h('div', 'emoji-groups');
  tabs.setAttribute('role', 'tablist');
  const grid = h('div', 'emoji-grid');
  grid.dataset.testid = 'emoji-grid';
  dialog.append(search, tabs, grid);
  return { dialog, search, tabs, grid };
}

/** The emoji matching search `q`, best first (rankOf), the data's order within a rank, at most RESULTS. */
function matching(usable, q) {
  return usable
    .map((e) => ({ e, rank: rankOf(e, q) }))
    .filter(({ rank }) => rank < NO_MATCH)
    .sort((a, b) => a.rank - b.rank) // stable: the data's order within a rank
    .slice(0, RESULTS)
    .map(({ e }) => e);
}

/**
 * Once the data is loaded: a tab per group, the search on each keystroke, Enter to pick the first shown; the first
 * group shown to begin with. `show` puts a list of emoji in the grid.
 */
function fillPicker({ search, tabs, grid }, all, show) {
  const usable = all.filter((e) => e.group !== 2);
  for (const [group, icon, name] of GROUPS) {
    const tab = h('button', 'emoji-group', icon);
    tab.type = 'button';
    tab.title = name;
    tab.setAttribute('role', 'tab');
    tab.setAttribute('aria-label', name);
    tab.addEventListener('click', () => {
      search.value = '';
      show(usable.filter((e) => e.group === group));
    });
    tabs.append(tab);
  }
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    show(q ? matching(usable, q) : usable.filter((e) => e.group === 0));
  });
  // Enter picks the first shown (the best match of a search) and closes the picker.
  search.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || ev.isComposing) return;
    ev.preventDefault();
    grid.querySelector('[data-testid="emoji-option"]')?.click();
  });
  show(usable.filter((e) => e.group === 0));
}

/** Places the dialog beside its button, kept inside the window (set through the CSSOM, which the CSP allows). */
function placeBeside(dialog, anchor) {
  const at = anchor.getBoundingClientRect();
  const width = Math.min(320, window.innerWidth - 16);
  const height = Math.min(360, window.innerHeight - 16);
  Object.assign(dialog.style, {
    width: `${width}px`,
    height: `${height}px`,
    left: `${Math.max(8, Math.min(at.left, window.innerWidth - width - 8))}px`,
    top: `${at.bottom + height + 8 < window.innerHeight ? at.bottom + 4 : Math.max(8, at.top - height - 4)}px`,
  });
}

/**
 * Opens the picker by `anchor` and resolves with the emoji picked, or undefined when it was closed without one
 * (Escape, a click outside, another picker opened).
 */
export function pickEmoji(anchor) {
  closeOpen?.();
  return new Promise((resolve) => {
    const parts = pickerParts();
    const { dialog, search, grid } = parts;

    const done = (picked) => {
      document.removeEventListener('pointerdown', outside, true);
      dialog.remove();
      if (closeOpen === close) closeOpen = null;
      resolve(picked);
    };
    const close = () => done(undefined);
    const outside = (ev) => {
      if (!dialog.contains(ev.target) && ev.target !== anchor) close();
    };
    closeOpen = close;

    const show = (list) => {
      grid.replaceChildren(
        ...list.map((e) => {
          const b = h('button', 'emoji-option', e.emoji);
          b.type = 'button';
          b.title = e.annotation;
          b.setAttribute('aria-label', e.annotation);
          b.dataset.testid = 'emoji-option';
          b.addEventListener('click', () => done(e.emoji));
          return b;
        }),
      );
    };
    grid.append(h('p', 'emoji-status', 'Loading emoji…'));
    emoji().then(
      (all) => fillPicker(parts, all, show),
      () => grid.replaceChildren(h('p', 'emoji-status', 'The emoji could not be loaded. Try again later.')),
    );

    dialog.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        close();
        anchor.focus();
      }
    });
    document.body.append(dialog);
    placeBeside(dialog, anchor);
    document.addEventListener('pointerdown', outside, true);
    search.focus();
  });
}
