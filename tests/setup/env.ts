// What template.yaml sets for every function, with test names, and each setting the code reads spelled out (the
// code has no defaults of its own). The abuse guards and the send rate are off (0) unless a test turns them on.
// Logs and metrics stay quiet in unit tests.
Object.assign(process.env, {
  CONNECTIONS_TABLE: 'test-Connections',
  ROOM_INDEX: 'RoomIndex',
  ROOMS_TABLE: 'test-Rooms',
  MESSAGES_TABLE: 'test-Messages',
  SENDS_TABLE: 'test-Sends',
  EVENT_BUS_NAME: 'test-chat',
  EVENT_SOURCE: 'roomcast.chat',
  CALLBACK_URL: 'https://abc123def4.execute-api.us-east-1.amazonaws.com/prod',
  MESSAGE_RETENTION_DAYS: '7',
  LIMITS_TABLE: 'test-Limits',
  // An open lobby without limits per source, as the local cloud runs; tests of those limits set their own.
  LOBBY_POLICY: 'open',
  LOBBY_POST_LIMIT: '0',
  LOBBY_POST_WINDOW_SECONDS: '60',
  CONNECTIONS_PER_SOURCE: '0',
  ROOM_IDLE_DAYS: '30',
  SESSION_RETENTION_DAYS: '30',
  SEND_RATE_LIMIT: '0',
  FRAME_RATE_LIMIT: '0',
  STRIKE_LIMIT: '0',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_SERVICE_NAME: 'roomcast',
  POWERTOOLS_METRICS_NAMESPACE: 'roomcast',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
