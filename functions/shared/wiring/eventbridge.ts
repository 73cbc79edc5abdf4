import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../adapters/eventbridge';
import { config } from '../config';
import { tracer } from '../powertools';

/** The chat bus, by the name template.yaml gives it, through one traced client. */
export const eventPublisher = () =>
  new EventBridgePublisher(tracer.captureAWSv3Client(new EventBridgeClient({})), config.eventBusName());
