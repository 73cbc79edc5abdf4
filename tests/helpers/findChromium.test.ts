import { findChromium } from '../helpers/browser';

describe('findChromium', () => {
  it('takes CHROMIUM_PATH first, and says so when it points nowhere', () => {
    expect(findChromium({ CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
    expect(() => findChromium({ CHROMIUM_PATH: '/nowhere/chromium' })).toThrow(
      'CHROMIUM_PATH=/nowhere/chromium does not exist.',
    );
  });

  it("prefers Debian's headless shell to the full browser when the machine has both", () => {
    const has = (paths: string[]) => (path: string) => paths.includes(path);
    const both = ['/usr/bin/chromium', '/usr/bin/chromium-headless-shell'];
    expect(findChromium({}, has(both))).toBe('/usr/bin/chromium-headless-shell');
    expect(findChromium({}, has(['/usr/bin/chromium']))).toBe('/usr/bin/chromium');
  });
});
