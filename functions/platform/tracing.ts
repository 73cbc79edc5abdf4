import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { useTracing } from './powertools';

/**
 * X-Ray tracing for the functions whose traces an operator reads: the ones on a message's path from its sender to
 * its members, on the service map of one message (docs/OPERATIONS.md, "Tracing one message"): SendMessage, Broadcast
 * and Deliver. Such a function imports this module (its handler's first import) and has `Tracing: Active` in
 * template.yaml; tests/build/clients.test.ts holds the two together. Every other function runs without the X-Ray SDK
 * in its bundle (docs/DECISIONS.md).
 */
export const tracer = new Tracer();

useTracing({
  middleware: captureLambdaHandler(tracer, { captureResponse: false }),
  captureClient: (client) => tracer.captureAWSv3Client(client),
});
