// The web chat's features plug in here instead of into app.js and connection.js: a feature's module calls
// `registerFeature` when it loads, declaring what it binds and which client events it handles, and the page binds
// every registered feature: `bind` once, as app.js starts the page, and its events and `watch` with each roomcast
// client connection.js creates (at start, and again under a new name or sign-in). A feature that plugs in so is loaded
// by index.html (its `<script type="module">` before app.js's): module scripts run in document order, each after the
// modules it imports, so every feature has registered by the time app.js starts the page, in the order its module ran.
//
// The order of a client event's handlers, each its own listener (one that throws does not stop the others):
//   1. the features' `before` handlers: what the page's own handler relies on (the room's moderation is known when
//      moderation.js's `room` handler has run, the author's profile when profiles.js's `message` handler has);
//   2. the page's own handler (connection.js: the room drawn, the message row placed);
//   3. the features' `on` handlers: what follows from the page's state (changes.js repaints the rows);
//   4. then, per client, each feature's `watch(chat, page)`: listeners it adds itself (a store, `chat.rooms`'
//      events, `chat.typing`'s) come after all of the above.
// Within each step, features run in the order they registered (their modules' order, the same on every load). Where
// several handle one event in one step (`room`, `message`, `frame` and `moderation`, all `before`), each changes its
// own state or defers its drawing to a microtask, so their order among themselves changes nothing a person sees; a
// feature that needs another's effect says so by its step (changes.js's `on` repaints after moderation.js's
// `before`), never by its module's place.

const features = [];
let started = false;

/**
 * Registers feature `name`: `bind()` wires its controls once the page's elements are there; `before` and `on` map
 * client event names to handlers `(value, chat)` run before and after the page's own handler of that event (above);
 * `watch(chat, page)` sets up each new client, `page` being what the page offers its features (connection.js
 * `PAGE_SERVICES`). One registered after the page started would never be bound, so that is an error naming the fix.
 */
export function registerFeature(name, { bind, watch, before = {}, on = {} }) {
  if (started) throw new Error(`${name} registered after the page started: load its script before app.js`);
  features.push({ name, bind, watch, before, on });
}

/** Binds each registered feature, in the order their modules ran (app.js, once). */
export function bindFeatures() {
  started = true;
  for (const feature of features) feature.bind?.();
}

/** Listens to `event` of `chat` with `handler(value, chat)`. */
const listen = (chat, event, handler) => chat.on(event, (value) => handler(value, chat));

/**
 * Hands a new client to the features (connection.js): each event's handlers in the order above, around the page's
 * own `handlers` (event name -> handler), then each feature's `watch(chat, page)`.
 */
export function watchFeatures(chat, handlers, page) {
  const events = new Set([
    ...Object.keys(handlers),
    ...features.flatMap((f) => [...Object.keys(f.before), ...Object.keys(f.on)]),
  ]);
  for (const event of events) {
    for (const feature of features) if (feature.before[event]) listen(chat, event, feature.before[event]);
    if (handlers[event]) chat.on(event, handlers[event]);
    for (const feature of features) if (feature.on[event]) listen(chat, event, feature.on[event]);
  }
  for (const feature of features) feature.watch?.(chat, page);
}
