import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';
import type { Browser } from 'playwright-core';
import { launchOwnChromium, SHARED_CHROMIUM } from '../helpers/browser';

/**
 * Jest's Node environment, and for the browser tests one Chromium per Jest worker process, shared by the browser
 * test files that worker runs one after another. A launch costs 1.5-2.5 CPU-seconds and a browser test run is
 * CPU-bound (two files at once on two cores, each with its own local cloud): 24 launches were about a minute of
 * CPU. The files stay apart as before: each file's pages live in browser contexts of its own (own cookies and
 * localStorage), closed when the file closes its browser (tests/helpers/browser.ts). This module is loaded once per
 * worker (Node's module cache, outside the tests' sandbox), so the browser below outlives each file.
 */
let shared: Promise<Browser> | undefined;

const activeHandles = (): { unref?(): void }[] =>
  (process as unknown as { _getActiveHandles(): { unref?(): void }[] })._getActiveHandles();

const isBrowserTest = (path: string) => /\.browser\.test\.ts$/.test(path);

async function sharedChromium(): Promise<Browser> {
  // A failed launch, or a Chromium that has gone (crashed, killed), is launched again for the next file rather than
  // failing every file after it.
  const running = await shared?.catch(() => undefined);
  if (running?.isConnected()) return running;
  const before = new Set(activeHandles());
  shared = launchOwnChromium().then((browser) => {
    // The worker is to exit when its files are done, not when Chromium does: the handles the launch added (the
    // child process and its pipes) are unreferenced, and Chromium ends with the worker (its pipes close). Node lists
    // live handles only through process._getActiveHandles; Playwright does not expose a launched browser's process.
    for (const handle of activeHandles()) if (!before.has(handle)) handle.unref?.();
    return browser;
  });
  return shared.catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
}

export default class RoomcastEnvironment extends TestEnvironment {
  private readonly testPath: string;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    if (isBrowserTest(this.testPath)) this.global[SHARED_CHROMIUM] = await sharedChromium();
  }
}
