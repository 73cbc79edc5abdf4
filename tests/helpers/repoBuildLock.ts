import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One test file at a time writes the repository's built files: the `npm start` banner test builds everything as a
 * fresh clone does (client/dist among them) while the package test packs client/dist, and a file rewritten under
 * `npm pack` fails it ("did not encounter expected EOF"). Jest runs files in parallel processes, so the lock is a
 * directory (mkdir is atomic), named after the repository, holding its owner's pid; a lock whose owner is gone is
 * taken over.
 */
const LOCK = join(
  tmpdir(),
  `roomcast-build-lock-${Buffer.from(join(__dirname, '..', '..'))
    .toString('hex')
    .slice(-32)}`,
);

/** Whether the lock's owner still runs; a lock just made, whose pid is not written yet, counts as held. */
function ownerAlive(): boolean {
  try {
    process.kill(Number(readFileSync(join(LOCK, 'pid'), 'utf8')), 0);
    return true;
  } catch {
    try {
      return Date.now() - statSync(LOCK).mtimeMs < 5_000;
    } catch {
      return false;
    }
  }
}

export async function withRepoBuildLock<T>(work: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      if (!ownerAlive()) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > end) throw new Error(`the repository's build lock (${LOCK}) stayed taken`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
