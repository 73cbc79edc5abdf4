import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { cyclesOf } from '../helpers/importGraph';

/**
 * The client library runs in browsers and in Node with whatever WebSocket class it is given: its bundle is made of
 * client/ and protocol/ alone. It uses `ws`'s extras only when the socket it was given has them (client/wire.ts),
 * so neither `ws` nor a Node built-in may creep into it.
 */
const root = join(__dirname, '..', '..');

/** The library bundled as dist/web/roomcast.js is (for the browser: a Node built-in fails the build), not written. */
const bundle = () =>
  build({
    entryPoints: [join(root, 'client', 'index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
  });

it('bundles nothing but client/ and protocol/: no ws, no other package, no Node built-in', async () => {
  const result = await bundle();
  const inputs = Object.keys(result.metafile.inputs).map((file) => relative(root, join(root, file)));
  expect(inputs).toContain(join('client', 'wire.ts'));
  expect(inputs.filter((file) => !/^(client|protocol)[/\\][^/\\]+\.ts$/.test(file))).toEqual([]);
});

it('is split into parts that import each other without a cycle', async () => {
  const result = await bundle();
  const graph = new Map(
    Object.entries(result.metafile.inputs).map(([file, input]) => [file, input.imports.map((i) => i.path)]),
  );
  // No cap on a part's length (a cap splits modules by size, not meaning: tests/build/shape.test.ts).
  expect(cyclesOf(graph)).toEqual([]);
  expect([...graph.keys()]).toEqual(
    expect.arrayContaining([
      'client/connection.ts',
      'client/requests.ts',
      'client/session.ts',
      'client/outbox.ts',
    ]),
  );
});
