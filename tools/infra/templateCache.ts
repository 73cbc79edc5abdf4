// Parsed templates kept on disk, so that each new process (a `npm start`, a test file, a benchmark's cloud) that
// loads an unchanged template skips its YAML parse, the slowest part of loading it (a few hundred ms of CPU for
// template.yaml; the rest of loading takes a few ms). An entry is named by the hash of the template's text and of
// the parser (the yaml package's version and the source of the short-form tags), so an edit to either is a miss,
// never a stale read. The directory is the user's own (0700): nobody else can plant a template there.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { threadId } from 'node:worker_threads';

/** Where the entries live: per user, under the system's temporary directory. */
export function templateCacheDir(): string {
  let user: string;
  try {
    user = String(userInfo().uid);
  } catch {
    user = 'user';
  }
  return join(tmpdir(), `roomcast-template-cache-${user}`);
}

/** The entry of a text parsed by a parser. */
export function cacheEntry(text: string, parserKey: string): string {
  const key = createHash('sha256').update(parserKey).update('\0').update(text).digest('hex');
  return join(templateCacheDir(), `${key}.v8`);
}

/**
 * `parse()`'s value for this text and parser: read from the cache, or parsed and stored. A missing, unreadable or
 * damaged entry only costs a parse; a cache that cannot be written is skipped.
 */
export function cachedParse<T>(text: string, parserKey: string, parse: (text: string) => T): T {
  const dir = templateCacheDir();
  const file = cacheEntry(text, parserKey);
  try {
    return deserialize(readFileSync(file)) as T;
  } catch {
    // Not cached yet (or damaged): parse below.
  }
  const value = parse(text);
  const partial = `${file}.${process.pid}.${threadId}.partial`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(partial, serialize(value), { mode: 0o600 });
    // A rename is atomic: a concurrent reader sees the whole entry or none.
    renameSync(partial, file);
    prune(dir);
  } catch {
    rmSync(partial, { force: true });
  }
  return value;
}

/** Entries kept: each edit of a template adds one, so the oldest beyond these go when a new one is written. */
const KEEP_ENTRIES = 16;

function prune(dir: string): void {
  const entries = readdirSync(dir)
    .filter((name) => name.endsWith('.v8'))
    .map((name) => ({ path: join(dir, name), mtimeMs: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of entries.slice(KEEP_ENTRIES)) rmSync(old.path, { force: true });
}
