import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Every relative link in docs/ and README.md names a file that exists.
 */
const root = join(__dirname, '..', '..');
const docs = join(root, 'docs');

const markdown = readdirSync(docs).filter((name) => name.endsWith('.md'));

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
