import { findChromium } from '../helpers/browser';

describe('findChromium', () => {
  it('takes CHROMIUM_PATH first, and says so when it points nowhere', () => {
    expect(findChromium({ CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
    expect(() => findChromium({ CHROMIUM_PATH: '/nowhere/chromium' })).toThrow(
      'CHROMIUM_PATH=/nowhere/chromium does not exist.',
    );
  });
});
