import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '#core/aws/eventbridge';
import { config } from '#platform/config';
import { traced } from '#platform/powertools';

/** The chat bus and the events' source, as template.yaml names them, through one client (traced in a function that opted in). */
export const eventPublisher = () =>
  new EventBridgePublisher(traced(new EventBridgeClient({})), config.eventBusName(), config.eventSource());
