import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../aws/eventbridge';
import { config } from '../config';
import { traced } from '../powertools';

/** The chat bus and the events' source, as template.yaml names them, through one client (traced in a function that opted in). */
export const eventPublisher = () =>
  new EventBridgePublisher(traced(new EventBridgeClient({})), config.eventBusName(), config.eventSource());
