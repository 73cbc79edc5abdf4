import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishFailed } from '#core/errors';
import type { ChatEvent, EventPublisher } from '#core/ports';

/** Publishes chat events on the bus; a partial failure (FailedEntryCount > 0) is a failure, not a success. */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    /** The events' `source`, which the template's fan-out rule matches. */
    private readonly source: string,
  ) {}

  async publish(events: ChatEvent[]): Promise<void> {
    if (events.length === 0) return;
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: events.map(({ type, ...detail }) => ({
          EventBusName: this.busName,
          Source: this.source,
          DetailType: type,
          Detail: JSON.stringify(detail),
          // Carries this invocation's X-Ray trace into the rule's target, so one trace follows the message.
          ...(process.env._X_AMZN_TRACE_ID ? { TraceHeader: process.env._X_AMZN_TRACE_ID } : {}),
        })),
      }),
    );
    const failed = result.FailedEntryCount ?? 0;
    if (failed > 0) {
      const reasons = (result.Entries ?? [])
        .filter((e) => e.ErrorCode)
        .map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
      throw new PublishFailed(
        `PutEvents failed for ${failed} of ${events.length} entries (${reasons.join('; ')})`,
        failed,
      );
    }
  }
}
