import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The client's README is read inside the npm tarball (on npmjs.com, in node_modules), where only the package's files
 * exist: every link is a web address, an anchor, or a file the package ships.
 */
const client = join(__dirname, '..', '..', 'client');

it('links only to the web, its own anchors or files the tarball holds', () => {
  const readme = readFileSync(join(client, 'README.md'), 'utf8');
  const shipped = JSON.parse(readFileSync(join(client, 'package.json'), 'utf8')).files as string[];
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => String(m[1]));
  const dead = targets.filter(
    (t) => !/^(https?:|mailto:|#)/.test(t) && !shipped.includes(t.replace(/^\.\//, '')),
  );
  expect(dead).toEqual([]);
});
