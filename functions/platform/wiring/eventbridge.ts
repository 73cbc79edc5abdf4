import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../aws/eventbridge';
import { config } from '../config';
import { tracer } from '../powertools';

/** The chat bus and the events' source, as template.yaml names them, through one traced client. */
export const eventPublisher = () =>
  new EventBridgePublisher(
    tracer.captureAWSv3Client(new EventBridgeClient({})),
    config.eventBusName(),
    config.eventSource(),
  );
