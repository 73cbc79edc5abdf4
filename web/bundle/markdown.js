// The web chat's Markdown, bundled by scripts/build.mjs (buildSite) into the site's markdown.js: markdown-it with
// raw HTML off (`<img onerror=…>` stays text, escaped), only the rules of a chat's safe subset on (bold, italic,
// inline code, code blocks, quotes, lists, links, bare URLs, escapes), and links only to http(s) and mailto.
// web/format.js turns the HTML into nodes through an allow-list of elements and attributes.
import MarkdownIt from 'markdown-it';

// A line break stays the newline it is (no `<br>`): the page shows a message's text with its white space kept.
const md = new MarkdownIt('zero', { html: false, linkify: true, breaks: false });
md.enable(['emphasis', 'backticks', 'fence', 'blockquote', 'list', 'link', 'linkify', 'newline', 'escape']);
// `www.example.com` and bare addresses are text: only a URL that names its scheme becomes a link.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });

/** The schemes a link may have: anything else (javascript:, data:, vbscript:, file:) stays text. */
const SAFE_LINK = /^(?:https?:|mailto:)/i;
md.validateLink = (url) => SAFE_LINK.test(url.trim());

/** `text` as HTML: every character of the sender's escaped but the Markdown subset's own elements. */
export function markdownHtml(text) {
  return md.render(String(text));
}
