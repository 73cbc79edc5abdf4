// The web chat's features plug in here instead of into app.js and connection.js: a feature's module calls
// `registerFeature` when it loads, naming what it binds, and the page binds every registered feature: `bind` once, as
// app.js starts the page, and `watch` with each roomcast client connection.js creates (at start, and again under a
// new name or sign-in). A feature that plugs in so is loaded by index.html (its `<script type="module">` before
// app.js's): module scripts run in document order, each after the modules it imports, so every feature has
// registered by the time app.js starts the page, in the order its module ran.

const features = [];
let started = false;

/**
 * Registers feature `name`: `bind` wires its controls once the page's elements are there; `watch(chat)` listens to
 * each new client, after the page's own listeners (the room drawn, the message row placed: connection.js). One
 * registered after the page started would never be bound, so that is an error naming the fix.
 */
export function registerFeature(name, { bind, watch }) {
  if (started) throw new Error(`${name} registered after the page started: load its script before app.js`);
  features.push({ name, bind, watch });
}

/** Binds each registered feature, in the order their modules ran (app.js, once). */
export function bindFeatures() {
  started = true;
  for (const feature of features) feature.bind?.();
}

/** Hands a new client to each registered feature that watches one, in the order their modules ran (connection.js). */
export function watchFeatures(chat) {
  for (const feature of features) feature.watch?.(chat);
}
