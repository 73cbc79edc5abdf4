// What template.yaml sets for every function, with test names. The runtime settings are no variables: the unit
// tests' settings document (tests/helpers/unitSettings.ts) is put in force below, with the abuse guards and the send
// rate off (0) unless a test turns them on (withSettings). Logs and metrics stay quiet in unit tests.
Object.assign(process.env, {
  CONNECTIONS_TABLE: 'test-Connections',
  SUBSCRIPTIONS_TABLE: 'test-Subscriptions',
  ROOM_SUBSCRIBERS_INDEX: 'RoomSubscribers',
  USER_INDEX: 'UserIndex',
  RESYNC_INDEX: 'ResyncIndex',
  ROOMS_TABLE: 'test-Rooms',
  MESSAGES_TABLE: 'test-Messages',
  REACTIONS_TABLE: 'test-Reactions',
  WORDS_TABLE: 'test-Words',
  DIRECTORY_TABLE: 'test-Directory',
  ATTACHMENTS_BUCKET: 'test-attachments',
  SENDS_TABLE: 'test-Sends',
  MEMBERSHIPS_TABLE: 'test-Memberships',
  EVENT_BUS_NAME: 'test-chat',
  EVENT_SOURCE: 'roomcast.chat',
  CALLBACK_URL: 'https://abc123def4.execute-api.us-east-1.amazonaws.com/prod',
  MESSAGE_RETENTION_DAYS: '7',
  LIMITS_TABLE: 'test-Limits',
  TYPING_INTERVAL_SECONDS: '5',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_SERVICE_NAME: 'roomcast',
  POWERTOOLS_METRICS_NAMESPACE: 'roomcast',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

// After the variables above (a require, as an import would be hoisted above them): the settings module reads them
// (Powertools' log level) as it loads.
require('../helpers/unitSettings').withSettings();
