import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishFailed } from '#core/errors';
import type { EventPublisher } from '#core/ports';

/** Times the entries PutEvents refused are sent again before the publish fails. */
const ENTRY_RETRIES = 2;

/**
 * Publishes chat events on the bus. PutEvents can accept some entries of a request and refuse others (its answer's
 * FailedEntryCount and each entry's ErrorCode): the refused entries alone are sent again, up to ENTRY_RETRIES times,
 * as the EventBridge API reference advises; entries still refused then make the publish fail (PublishFailed).
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    /** The events' `source`, which the template's fan-out rule matches. */
    private readonly source: string,
  ) {}

  async publish(events: Parameters<EventPublisher['publish']>[0]): Promise<void> {
    if (events.length === 0) return;
    let entries = events.map(({ type, ...detail }) => ({
      EventBusName: this.busName,
      Source: this.source,
      DetailType: type,
      Detail: JSON.stringify(detail),
      // Carries this invocation's X-Ray trace into the rule's target, so one trace follows the message.
      ...(process.env._X_AMZN_TRACE_ID ? { TraceHeader: process.env._X_AMZN_TRACE_ID } : {}),
    }));
    for (let attempt = 0; ; attempt++) {
      const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if ((result.FailedEntryCount ?? 0) === 0) return;
      const answers = result.Entries ?? [];
      const refused = entries.filter((_, i) => answers[i]?.ErrorCode !== undefined);
      if (attempt >= ENTRY_RETRIES || refused.length === 0) {
        const reasons = answers.filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
        throw new PublishFailed(
          `PutEvents failed for ${result.FailedEntryCount} of ${events.length} entries (${reasons.join('; ')})`,
          result.FailedEntryCount ?? refused.length,
        );
      }
      entries = refused;
    }
  }
}
