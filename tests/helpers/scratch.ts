import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A scratch folder for the tests of the file or describe it is called in: made before them (named `prefix` and a
 * random tail), removed after them. `write(text)` writes `text` to a new file in it (t1.yaml, t2.yaml …: a test's
 * inline template) and returns its path.
 */
export function scratchFolder(prefix: string) {
  let dir: string | undefined;
  let files = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const folder = {
    get path(): string {
      if (!dir) throw new Error('the scratch folder is made before the tests run');
      return dir;
    },
    write(text: string): string {
      files += 1;
      const file = join(folder.path, `t${files}.yaml`);
      writeFileSync(file, text);
      return file;
    },
  };
  return folder;
}
