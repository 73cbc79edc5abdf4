// roomcast web config — optional, loaded by index.html before app.js.
//
// The chat page finds its WebSocket URL in this order:
//   1. the `?ws=` query parameter       e.g. index.html?ws=wss://abc123.execute-api.eu-west-1.amazonaws.com/prod
//   2. window.ROOMCAST_WS_URL below     (when non-empty)
//   3. GET /config.json on the same origin, shaped { "wsUrl": "ws://127.0.0.1:3001/prod" }
//      (the local cloud, `npm start`, serves this one).
//
// To host the static files (S3, CloudFront, any web server) against a deployed stack, put the stack's
// WebSocket URL here — it is the `wss://` URL in the `sam deploy` Outputs, of the form
//   wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>
// e.g.
//   window.ROOMCAST_WS_URL = 'wss://abc123defg.execute-api.eu-west-1.amazonaws.com/prod';
// Hosting the page yourself: copy dist/web/roomcast.js (the client library, built by `node scripts/build.mjs`)
// beside index.html; the local cloud serves it at /roomcast.js. Keep the stage path. The page sets the `username`
// query parameter itself; any other parameter you put in the URL
// is kept (e.g. `?token=<jwt>` for a stack deployed with AuthMode=token).
window.ROOMCAST_WS_URL = '';
