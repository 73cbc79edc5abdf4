// The local cloud's DynamoDB in a thread of its own: dynalite, the template's tables and the IAM check of every
// request, on an event loop that nothing else shares. dynalite serializes the writes to one item across event-loop
// turns (its per-key lock spans several asynchronous steps): on a loop shared with the gateway, a hot item such as a
// room's seq counter would take far fewer writes a second than DynamoDB's per-item ceiling (docs/PARITY.md,
// "Local DynamoDB").
import { parentPort, workerData } from 'node:worker_threads';
import { loadTemplate } from '../infra/template';
import { profileNamed } from './awsProfile';
import {
  type DynamoThreadInit,
  type DynamoThreadMessage,
  type DynamoThreadRequest,
  startDynamo,
} from './dynamodb';
import { createLocalIam } from './iam';

if (!parentPort) throw new Error('the DynamoDB thread must run in a worker thread');
const port = parentPort;
const init = workerData as DynamoThreadInit;
const send = (message: DynamoThreadMessage) => port.postMessage(message);

async function main(): Promise<void> {
  const template = loadTemplate(init.template, { parameters: init.parameters });
  const iam = createLocalIam(template, (line) => send({ kind: 'log', line }), { secrets: init.secrets });
  const dynamo = await startDynamo({
    tables: template.tables(),
    dataDir: init.dataDir,
    host: init.host,
    keyLimitScale: init.keyLimitScale,
    gsiLagMs: init.gsiLagMs,
    ...(init.awsProfile !== undefined && { profile: profileNamed(init.awsProfile) }),
    guard: {
      region: template.region,
      accountId: template.accountId,
      check: (req, body, action, resources, context) =>
        iam.checkRequest(req, body, { service: 'dynamodb', action, resources, context }),
    },
  });
  port.on('message', (message: DynamoThreadRequest) => {
    if (message.kind === 'keyStats') {
      void dynamo
        .keyStats(message.options)
        .then((stats) => send({ kind: 'keyStats', id: message.id, stats }));
      return;
    }
    if (message.kind === 'resetKeyStats') {
      void dynamo.resetKeyStats().then(() => send({ kind: 'resetKeyStats', id: message.id }));
      return;
    }
    if (message.kind === 'flushIndexLag') {
      void (dynamo.flushIndexLag?.() ?? Promise.resolve()).then(() =>
        send({ kind: 'flushIndexLag', id: message.id }),
      );
      return;
    }
    if (message.kind !== 'close') return;
    dynamo.close().then(
      () => send({ kind: 'closed' }),
      (error: Error) => send({ kind: 'error', message: error.message }),
    );
  });
  send({ kind: 'ready', endpoint: dynamo.endpoint });
}

main().catch((error: Error) => send({ kind: 'error', message: error.stack ?? error.message }));
