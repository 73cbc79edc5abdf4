// The local cloud's Step Functions in a thread of its own: the engine (aws-local-stepfunctions), its JSONPath and
// payload checks, and the SDK calls of its DynamoDB tasks run here, not on the gateway's event loop. On AWS the
// state machine is another service: a fan-out in progress costs the WebSocket API nothing. On the gateway's thread
// the engine's work would delay every frame the gateway handles while a large room is fanned out (docs/PARITY.md,
// "Local Step Functions"). Lambda tasks are sent back to the main thread, where the local Lambda service and the
// IAM check of the machine's role live.
import './polyfills';
import { parentPort, workerData } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadTemplate } from '../infra/template';
import { statesByName } from './aslStates';
import { profileNamed } from './awsProfile';
import {
  type FromStepFunctionsThread,
  fromThreadError,
  type StepFunctionsThreadInit,
  type ThreadError,
  type ToStepFunctionsThread,
  toThreadError,
} from './stepFunctionsHost';
import { LocalStateMachine } from './stepfunctions';

if (!parentPort) throw new Error('the Step Functions thread must run in a worker thread');
const port = parentPort;
const init = workerData as StepFunctionsThreadInit;
const send = (message: FromStepFunctionsThread) => port.postMessage(message);
/** Tests only: the executions ended so far, counted where a blocked main thread can read them (endedCounter). */
const ended = init.endedCounter ? new Int32Array(init.endedCounter) : undefined;

// No stack traces on this thread: jsonpath-plus signals every scalar it reads by throwing an Error (its `NewError`),
// so a captured stack would be paid for every value a state reads, and nothing here reads one: task errors cross to
// the main thread as a name and a message.
Error.stackTraceLimit = 0;

const invocations = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let nextInvocation = 1;

// DynamoDB may still be starting while the machines are loaded: the main thread sends its endpoint when it has it,
// before any execution, and the machines' DynamoDB clients wait for it.
let dynamoEndpointKnown: (endpoint: string) => void = () => undefined;
const dynamoEndpoint = new Promise<string>((resolve) => {
  dynamoEndpointKnown = resolve;
});

function main(): void {
  const template = loadTemplate(init.template, { parameters: init.parameters });
  const clients: DynamoDBClient[] = [];
  const machines = new Map<string, LocalStateMachine>();
  const clockStates = new Set(init.testClock?.states);
  for (const definition of template.stateMachines()) {
    const credentials = init.credentials[definition.logicalId];
    if (!credentials) throw new Error(`no credentials for state machine ${definition.logicalId}`);
    const dynamodb = new DynamoDBClient({
      endpoint: async () => ({ url: new URL(await dynamoEndpoint) }),
      region: template.region,
      credentials,
    });
    clients.push(dynamodb);
    const invokeFunction = (functionArnOrName: string, payload: unknown) =>
      new Promise<unknown>((resolve, reject) => {
        const id = nextInvocation++;
        invocations.set(id, { resolve, reject });
        send({ kind: 'invoke', id, machine: definition.logicalId, functionArnOrName, payload });
      });
    // Each machine gets the clock's states it has; a name no machine has is refused below.
    const own = statesByName(definition.definition);
    const testClock = init.testClock && {
      ...init.testClock,
      states: init.testClock.states.filter((name) => own.has(name)),
    };
    for (const name of testClock?.states ?? []) clockStates.delete(name);
    machines.set(
      definition.logicalId,
      new LocalStateMachine(
        definition.name,
        definition.definition,
        {
          dynamodb,
          invokeFunction,
          putMetricData: (input) => send({ kind: 'metric', input }),
          lambdaResponseLost: () => Math.random() < (init.faultLambdaResponseLost ?? 0),
        },
        {
          testClock,
          type: definition.type,
          ...(init.awsProfile !== undefined && { profile: profileNamed(init.awsProfile) }),
        },
      ),
    );
  }
  if (clockStates.size > 0)
    throw new Error(
      `the Step Functions test clock names states no state machine has: ${[...clockStates].join(', ')}`,
    );

  port.on('message', (message: ToStepFunctionsThread) => {
    if (message.kind === 'dynamo') dynamoEndpointKnown(message.endpoint);
    else if (message.kind === 'start') {
      const machine = machines.get(message.logicalId);
      if (!machine) {
        const error: ThreadError = {
          name: 'States.Runtime',
          message: `no state machine ${message.logicalId}`,
        };
        send({
          kind: 'done',
          id: message.id,
          summary: {
            ok: false,
            durationMs: 0,
            error: error.name,
            cause: error.message,
            retries: 0,
            states: [],
            endedAt: Date.now(),
          },
        });
        return;
      }
      // The output stays here unless asked for (a synchronous execution's caller reads it): copying it costs.
      void machine.execute(message.input).then(({ output, ...summary }) => {
        if (ended) Atomics.add(ended, 0, 1);
        send({
          kind: 'done',
          id: message.id,
          summary: { ...summary, ...(message.withOutput && { output }), endedAt: Date.now() },
        });
      });
    } else if (message.kind === 'invoked') {
      const waiting = invocations.get(message.id);
      invocations.delete(message.id);
      if (message.error) waiting?.reject(fromThreadError(message.error));
      else waiting?.resolve(message.result);
    } else if (message.kind === 'close') {
      for (const client of clients) client.destroy();
      send({ kind: 'closed' });
    }
  });
  send({ kind: 'ready' });
}

try {
  main();
} catch (error) {
  send({ kind: 'error', message: toThreadError(error).message });
}
