import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The web chat's features plug themselves in (web/features.js): a module that calls `registerFeature` is loaded by
 * its own `<script type="module">` in index.html before app.js's, and the page's centre (app.js, connection.js)
 * imports none of them, so adding such a feature never edits the centre. A module with no script tag of its own
 * registers only while something else happens to import it, and a feature nothing imports is silently missing. The
 * centre imports only the page's own modules (`CENTRE_IMPORTS`): a feature it named would be called from there
 * instead of declaring what it handles.
 */
const WEB = join(__dirname, '..', '..', 'web');
const read = (file: string) => readFileSync(join(WEB, file), 'utf8');
const CENTRE = ['app.js', 'connection.js'];
/**
 * What the centre may import: the page's own modules (the client, its state, the room and the message list on screen,
 * the composer, the sign-in). A feature is none of them: it registers itself, declaring the client events it handles
 * (features.js), and the centre hands each client to the registry instead of to the feature.
 */
const CENTRE_IMPORTS = [
  'account.js',
  'composer.js',
  'connection.js',
  'features.js',
  'members.js',
  'messageList.js',
  'messages.js',
  'names.js',
  'roomcast.js',
  'rooms.js',
  'roomWords.js',
  'sidebar.js',
  'signin.js',
  'state.js',
  'ui.js',
];

/** The web modules `source` imports: `from './x.js'`, `import './x.js'` and `import('./x.js')`. */
const importsOf = (source: string) =>
  [...source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'\.\/([\w.]+\.js)'/g)].map((m) => m[1] as string);

/** The modules each of the centre's sources imports beyond the page's own, one line each. */
const featuresNamed = (centre: Record<string, string>) =>
  Object.entries(centre).flatMap(([file, source]) =>
    importsOf(source)
      .filter((imported) => !CENTRE_IMPORTS.includes(imported))
      .map((imported) => `${file} imports ${imported}, not one of the page's own modules`),
  );

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

it("imports none but the page's own modules into app.js and connection.js", () => {
  const centre = Object.fromEntries(CENTRE.map((f) => [f, read(f)]));
  expect(importsOf(centre['connection.js'] as string)).toContain('features.js');
  expect(featuresNamed(centre)).toEqual([]);
});

it("names a module the centre imports that is not one of the page's own", () => {
  const centre = {
    'app.js': "import { state } from './state.js';\nimport { bindScrollBack } from './scrollBack.js';",
    'connection.js':
      "import { watchFeatures } from './features.js';\nimport {\n  bindMentions,\n} from './mentions.js';\nconst later = import('./search.js');",
  };
  expect(featuresNamed(centre)).toEqual([
    "app.js imports scrollBack.js, not one of the page's own modules",
    "connection.js imports mentions.js, not one of the page's own modules",
    "connection.js imports search.js, not one of the page's own modules",
  ]);
});
