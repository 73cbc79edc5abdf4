import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every citation of a doc section in the code — `docs/PARITY.md, "Local S3"`, `(DECISIONS.md "Attachments")`,
 * `docs/PROTOCOL.md ("Typing")`, wrapped over comment lines or not — names a heading the page has: a renamed
 * section otherwise leaves comments that send the reader to a page without the fact, which nobody notices. A
 * citation names a heading whole or its first words (`"Local S3"` for `## Local S3 (tools/local/s3.ts)`), compared
 * without case, backticks or the leading #'s.
 */
const root = join(__dirname, '..', '..');
const PLACES = [
  'functions',
  'client',
  'protocol',
  'tools',
  'scripts',
  'web',
  'statemachines',
  'tests',
  'template.yaml',
];

/** The repository's own files in those places, as git knows them. */
function trackedFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...PLACES], {
    cwd: root,
    encoding: 'utf8',
  });
  return listed.split('\n').filter((file) => file !== '' && existsSync(join(root, file)));
}

/**
 * A text as one line: each line's leading comment marker (`//`, `/**`, ` * `, `#`) dropped and the lines joined by a
 * space, so a citation wrapped over comment lines reads whole; JSON's `\"` read as `"`.
 */
const unwrapped = (text: string): string =>
  text
    .replace(/\\"/g, '"')
    .split('\n')
    .map((line) => line.replace(/^\s*(?:\/\/+|\/\*+|\*\/|\*(?!\/)|#+)?\s*/, ''))
    .join(' ');

/**
 * Each page and section an unwrapped text cites: a Markdown file's name, then the section in double quotes after a
 * comma, a space, an opening parenthesis or `'s`.
 */
function citationsOf(text: string): { page: string; section: string }[] {
  const cited = /((?:[\w.-]+\/)*[\w-]+\.md)(?:'s)?(?:,?\s+\(?|\s*\()"([^"]+)"/g;
  return [...unwrapped(text).matchAll(cited)].map(([, page, section]) => ({
    page: page as string,
    section: (section as string).replace(/\s+/g, ' ').trim(),
  }));
}

/** A page's headings without their #'s and backticks, headings inside fenced code left out. */
function headingsOf(markdown: string): string[] {
  const headings: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? undefined : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) headings.push(heading.replace(/`/g, '').replace(/\s+/g, ' '));
  }
  return headings;
}

/** Whether a section name is a heading or its first words (the heading goes on past a word's end). */
const names = (section: string, heading: string): boolean => {
  const [s, h] = [section.toLowerCase(), heading.toLowerCase()];
  return h === s || (h.startsWith(s) && !/[\p{L}\p{N}]/u.test(h.charAt(s.length)));
};

/** The file a cited page is: a bare name is docs/' own (README.md the repository's), a path is from the root. */
const pageFile = (page: string): string =>
  page.includes('/') ? join(root, page) : join(root, page === 'README.md' ? '' : 'docs', page);

it('cites only doc sections that exist', () => {
  const dangling: string[] = [];
  const headings = new Map<string, string[]>();
  let checked = 0;
  for (const file of trackedFiles()) {
    for (const { page, section } of citationsOf(readFileSync(join(root, file), 'utf8'))) {
      checked++;
      const path = pageFile(page);
      if (!headings.has(path))
        headings.set(path, existsSync(path) ? headingsOf(readFileSync(path, 'utf8')) : []);
      if (!headings.get(path)?.some((heading) => names(section, heading)))
        dangling.push(`${file}: ${page}, "${section}"`);
    }
  }
  expect(checked).toBeGreaterThan(50);
  expect(dangling).toEqual([]);
});

it('finds citations wrapped over comment lines, and tells a renamed section', () => {
  const md = '.md';
  const source = [
    `/**`,
    ` * The room's log (docs/DECISIONS${md}, "The fan-out at`,
    ` * AWS's scale"), and docs/PROTOCOL${md} ("Typing").`,
    ` */`,
    `# template: OPERATIONS${md}'s "Tearing down" steps; a package.json "files": ["README${md}", "x"]`,
  ].join('\n');
  expect(citationsOf(source)).toEqual([
    { page: `docs/DECISIONS${md}`, section: "The fan-out at AWS's scale" },
    { page: `docs/PROTOCOL${md}`, section: 'Typing' },
    { page: `OPERATIONS${md}`, section: 'Tearing down' },
  ]);
  const headings = headingsOf(
    '# Parity\n## `Fn::ForEach`: routes\n```\n# not a heading\n```\n## Local S3 (s3.ts)\n',
  );
  expect(headings).toEqual(['Parity', 'Fn::ForEach: routes', 'Local S3 (s3.ts)']);
  expect(names('local s3', 'Local S3 (s3.ts)')).toBe(true);
  expect(names('Fn::ForEach', 'Fn::ForEach: routes')).toBe(true);
  expect(names('Local S', 'Local S3 (s3.ts)')).toBe(false);
  expect(names('S3', 'Local S3 (s3.ts)')).toBe(false);
  expect(names('not a heading', headings[0] as string)).toBe(false);
});
