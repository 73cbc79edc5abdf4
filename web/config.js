// roomcast web config — optional, loaded by index.html before app.js.
//
// The chat page finds its WebSocket URL in this order, only ever in this origin's own files (never in the page's
// address, so a link cannot point the page, its sign-in token or an invite key at another host):
//   1. window.ROOMCAST_WS_URL below     (when non-empty)
//   2. GET /config.json on the same origin, shaped { "wsUrl": "ws://127.0.0.1:3001/prod" }
//      (the local cloud, `npm start`, and `npm run publish-web` write this one; they add the stack's
//      "typingIntervalSeconds", the pace of the client's typing heartbeat, 5 s when absent).
//
// To host the static files (S3, CloudFront, any web server) against a deployed stack, put the stack's
// WebSocket URL here — it is the `wss://` URL in the `sam deploy` Outputs, of the form
//   wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>
// e.g.
//   window.ROOMCAST_WS_URL = 'wss://abc123defg.execute-api.eu-west-1.amazonaws.com/prod';
// Hosting the page yourself: host dist/web/ (the whole site with the client library roomcast.js, assembled by
// `node scripts/build.mjs --site`), the folder the local cloud serves. Keep the stage path. The page sets the `username`
// query parameter itself; any other parameter you put in the URL
// is kept (e.g. `?token=<jwt>` for a stack deployed with AuthMode=token). The pages' Content-Security-Policy allows
// connections to this origin only: add the same URL to `connect-src` in index.html's meta tag.
window.ROOMCAST_WS_URL = '';
