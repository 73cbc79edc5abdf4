import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Every relative link in docs/ and README.md names a file that exists, and every `#anchor` it names (in another
 * Markdown file or its own) is a heading there as GitHub slugs it: a renamed heading otherwise leaves links that
 * open the page at its top, which nobody notices.
 */
const root = join(__dirname, '..', '..');
const docs = join(root, 'docs');

const markdown = readdirSync(docs).filter((name) => name.endsWith('.md'));
const sources = [join(root, 'README.md'), ...markdown.map((name) => join(docs, name))];

/** Each link target of a Markdown text: `[text](target)`. */
const linksOf = (text: string): string[] =>
  [...text.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target as string);

/**
 * GitHub's anchor for a heading: lower case, every character but letters, digits, spaces, `-` and `_` dropped, each
 * space a `-`; a repeated anchor gets `-1`, `-2`… Headings inside fenced code are not headings.
 */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

it('links only to files that exist', () => {
  const broken: string[] = [];
  for (const file of sources) {
    for (const target of linksOf(readFileSync(file, 'utf8'))) {
      if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
      const path = decodeURIComponent(target.split('#')[0] ?? '');
      if (!existsSync(resolve(dirname(file), path)))
        broken.push(`${file.slice(root.length + 1)} → ${target}`);
    }
  }
  expect(broken).toEqual([]);
});

it('links only to headings that exist', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of sources) {
    for (const target of linksOf(readFileSync(file, 'utf8'))) {
      const [path = '', anchor] = target.split('#');
      if (/^[a-z]+:/i.test(target) || anchor === undefined) continue;
      const into = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!into.endsWith('.md') || !existsSync(into)) continue;
      checked++;
      if (!anchorsOf(readFileSync(into, 'utf8')).has(decodeURIComponent(anchor).toLowerCase()))
        broken.push(`${file.slice(root.length + 1)} → ${target}`);
    }
  }
  expect(checked).toBeGreaterThan(0);
  expect(broken).toEqual([]);
});

it('slugs headings as GitHub does, so the check above can fail', () => {
  const anchors = anchorsOf(
    '# Parity: what it emulates\n## Local S3 (tools/local/s3.ts)\n```\n## not a heading\n```\n## Hot keys\n## Hot keys\n',
  );
  expect([...anchors]).toEqual([
    'parity-what-it-emulates',
    'local-s3-toolslocals3ts',
    'hot-keys',
    'hot-keys-1',
  ]);
});
