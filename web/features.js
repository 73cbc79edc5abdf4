// The web chat's features plug in here instead of into app.js: a feature's module calls `registerFeature` when it
// loads, naming what it binds, and app.js binds every registered feature as the page starts. A feature that plugs in
// so is loaded by index.html (its `<script type="module">` before app.js's, beside its markup and stylesheet): module
// scripts run in document order, so every feature has registered by the time app.js starts the page.

const features = [];
let started = false;

/**
 * Registers feature `name` whose `bind` wires its controls once the page's elements are there. One registered after
 * the page started would never be bound, so that is an error naming the fix.
 */
export function registerFeature(name, { bind }) {
  if (started) throw new Error(`${name} registered after the page started: load its script before app.js`);
  features.push({ name, bind });
}

/** Binds each registered feature, in the order their modules loaded (app.js, once). */
export function bindFeatures() {
  started = true;
  for (const feature of features) feature.bind();
}
