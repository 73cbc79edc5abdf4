// Preloaded into artillery (NODE_OPTIONS=--require) by scripts/load.mjs. artillery 2.0.x sends a "test run" event to
// PostHog through `posthog-node` even with ARTILLERY_DISABLE_TELEMETRY set (it only strips the properties; see
// artillery/lib/telemetry.js), and awaits the client's shutdownAsync() before exiting, which stalls with no
// internet. This replaces `posthog-node` with a client that sends nothing.
'use strict';

const Module = require('node:module');

class PostHog {
  capture() {}
  identify() {}
  flush() {}
  async shutdownAsync() {}
  async shutdown() {}
}

const load = Module._load;
Module._load = function loadWithoutTelemetry(request, parent, isMain) {
  if (request === 'posthog-node') return { PostHog, default: PostHog };
  return load.call(this, request, parent, isMain);
};
