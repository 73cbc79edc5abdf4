import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * docs/ is a reference a newcomer reads whole: at most 15,000 words across it, with dated measurements kept apart in
 * MEASUREMENTS.md (not counted). Every relative link in docs/ and README.md names a file that exists.
 */
const root = join(__dirname, '..', '..');
const docs = join(root, 'docs');
const MAX_REFERENCE_WORDS = 15_000;
const RECORD = 'MEASUREMENTS.md';

const markdown = readdirSync(docs).filter((name) => name.endsWith('.md'));

/** Words as `wc -w` counts them: runs of characters between whitespace. */
function words(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}

it('keeps the reference docs within 15,000 words (the dated record apart)', () => {
  const counts = Object.fromEntries(
    markdown
      .filter((name) => name !== RECORD)
      .map((name) => [name, words(readFileSync(join(docs, name), 'utf8'))]),
  );
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  expect({ total, within: total <= MAX_REFERENCE_WORDS }).toEqual({ total, within: true });
});

it('links only to files that exist', () => {
  const files = [join(root, 'README.md'), ...markdown.map((name) => join(docs, name))];
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (target === undefined || /^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
      const path = decodeURIComponent(target.split('#')[0] ?? '');
      if (!existsSync(resolve(dirname(file), path)))
        broken.push(`${file.slice(root.length + 1)} → ${target}`);
    }
  }
  expect(broken).toEqual([]);
});
