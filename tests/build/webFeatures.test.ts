import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The web chat's features plug themselves in (web/features.js): a module that calls `registerFeature` is loaded by
 * its own `<script type="module">` in index.html before app.js's, and the page's centre (app.js, connection.js)
 * imports none of them, so adding such a feature never edits the centre. A module with no script tag of its own
 * registers only while something else happens to import it, and a feature nothing imports is silently missing.
 */
const WEB = join(__dirname, '..', '..', 'web');
const read = (file: string) => readFileSync(join(WEB, file), 'utf8');
const CENTRE = ['app.js', 'connection.js'];

/** The web modules that register themselves. */
const registering = () =>
  readdirSync(WEB).filter((file) => file.endsWith('.js') && /^registerFeature\(/m.test(read(file)));

/** The modules index.html loads before app.js, by their script tags' order. */
function loadedBeforeApp(html: string): string[] {
  const scripts = [...html.matchAll(/<script type="module" src="([\w.]+\.js)"><\/script>/g)].map(
    (m) => m[1] as string,
  );
  const app = scripts.indexOf('app.js');
  return app < 0 ? [] : scripts.slice(0, app);
}

/** What is wrong with how `html` and the centre's sources load `features`, one line each. */
function unplugged(html: string, features: string[], centre: Record<string, string>): string[] {
  const loaded = loadedBeforeApp(html);
  return [
    ...features.filter((f) => !loaded.includes(f)).map((f) => `${f}: no script tag before app.js's`),
    ...Object.entries(centre).flatMap(([file, source]) =>
      features.filter((f) => source.includes(`from './${f}'`)).map((f) => `${file} imports ${f}`),
    ),
  ];
}

it("loads each self-registering web module by its own script tag, and the page's centre names none", () => {
  const features = registering();
  expect(features).toEqual(expect.arrayContaining(['pins.js', 'threads.js', 'search.js', 'reports.js']));
  expect(
    unplugged(read('index.html'), features, Object.fromEntries(CENTRE.map((f) => [f, read(f)]))),
  ).toEqual([]);
});

it('names a registering module left without its script tag, put after app.js, or imported by the centre', () => {
  const html = [
    '<script type="module" src="pins.js"></script>',
    '<script type="module" src="app.js"></script>',
    '<script type="module" src="late.js"></script>',
  ].join('\n');
  const centre = { 'app.js': "import { bindPins } from './pins.js';" };
  expect(unplugged(html, ['pins.js', 'late.js', 'lost.js'], centre)).toEqual([
    "late.js: no script tag before app.js's",
    "lost.js: no script tag before app.js's",
    'app.js imports pins.js',
  ]);
});
