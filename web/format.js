// Messages' text as the web chat shows it: Markdown's chat subset (web/bundle/markdown.js, markdown-it with raw HTML
// off) turned into nodes through an allow-list, so nothing the sender wrote becomes markup of its own: `<img …>`
// reads as text, a link goes only to http(s) or mailto and opens in a new tab without handing it this page. The
// server stores the text as sent; only the page draws it.
import { markdownHtml } from './markdown.js';

/** Elements Markdown's subset makes, and the one attribute each may keep. */
const ALLOWED = {
  P: [],
  BR: [],
  STRONG: [],
  EM: [],
  CODE: [],
  PRE: [],
  BLOCKQUOTE: [],
  UL: [],
  OL: ['start'],
  LI: [],
  A: ['href'],
};
/** Elements whose children are blocks. */
const BLOCKS = new Set(['BLOCKQUOTE', 'UL', 'OL', 'LI']);
const SAFE_HREF = /^(?:https?:|mailto:)/i;

/** A copy of `node` with only allowed elements and attributes; anything else goes in as its text. */
function clean(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.data);
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const keep = ALLOWED[node.tagName];
  if (!keep) return document.createTextNode(node.textContent ?? '');
  const out = document.createElement(node.tagName.toLowerCase());
  for (const name of keep) {
    const value = node.getAttribute(name);
    if (value !== null) out.setAttribute(name, value);
  }
  if (out.tagName === 'A') {
    if (!SAFE_HREF.test(out.getAttribute('href') ?? ''))
      return document.createTextNode(node.textContent ?? '');
    out.className = 'msg-link';
    out.target = '_blank';
    out.rel = 'noopener noreferrer';
  }
  for (const child of node.childNodes) {
    // The HTML's newlines between blocks (`<ul>\n<li>`) are layout, not text: the page keeps white space.
    if (BLOCKS.has(node.tagName) && child.nodeType === Node.TEXT_NODE && /^\s*\n\s*$/.test(child.data))
      continue;
    const copy = clean(child);
    if (copy) out.append(copy);
  }
  return out;
}

/**
 * `text` as nodes: its Markdown drawn (a single paragraph unwrapped, so a one-line message is a line of text), the
 * newlines between blocks dropped.
 */
export function formatted(text) {
  // An inert document: nothing in it loads or runs, whatever it holds.
  const parsed = new DOMParser().parseFromString(markdownHtml(String(text)), 'text/html').body;
  const blocks = [...parsed.childNodes].filter((n) => !(n.nodeType === Node.TEXT_NODE && !n.data.trim()));
  // A code block's last newline ends its last line, not a line of its own.
  for (const code of parsed.querySelectorAll('pre > code')) {
    const last = code.lastChild;
    if (last?.nodeType === Node.TEXT_NODE) last.data = last.data.replace(/\n$/, '');
  }
  const only = blocks.length === 1 && blocks[0].nodeName === 'P' ? [...blocks[0].childNodes] : blocks;
  return only.map(clean).filter(Boolean);
}

/** A grapheme of emoji alone: pictographs with their joiners, variation selectors, skin tones, or a flag's pair. */
const EMOJI_RUN = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|\p{Emoji_Modifier}|\u200D|\uFE0F)+$/u;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Whether `text` is one to three emoji and nothing else (white space aside): shown large, as chat apps do. */
export function emojiOnly(text) {
  const bare = String(text).replace(/\s+/g, '');
  if (bare === '' || !EMOJI_RUN.test(bare)) return false;
  return [...graphemes.segment(bare)].length <= 3;
}

/** Draws message `text` into its `.msg-text` element: its Markdown, and large when it is emoji alone. */
export function drawText(el, text) {
  el.replaceChildren(...formatted(String(text ?? '')));
  el.classList.toggle('emoji-only', emojiOnly(text ?? ''));
}
