import { dynamo, events, managementApi } from './adapters/clients';
import { DynamoConnectionStore, DynamoMessageStore, DynamoRoomStore, DynamoSendLog } from './adapters/dynamo';
import { EventBridgePublisher } from './adapters/eventbridge';
import { ManagementApiNotifier } from './adapters/notifier';
import type { ChatDeps } from './chat';
import { config } from './config';

/**
 * Wires the chat domain to its AWS adapters. Each adapter is built on first use, so a function only reads the
 * configuration (and holds the clients) it actually needs.
 */
export function awsChatDeps(): ChatDeps {
  const lazy = <T extends object>(make: () => T): T => {
    let instance: T | undefined;
    return new Proxy({} as T, {
      get(_target, property) {
        instance ??= make();
        const value = Reflect.get(instance, property);
        return typeof value === 'function' ? value.bind(instance) : value;
      },
    });
  };
  return {
    connections: lazy(() => new DynamoConnectionStore(dynamo())),
    rooms: lazy(() => new DynamoRoomStore(dynamo())),
    messages: lazy(() => new DynamoMessageStore(dynamo())),
    sends: lazy(() => new DynamoSendLog(dynamo())),
    events: lazy(() => new EventBridgePublisher(events(), config.eventBusName())),
    notifier: lazy(() => new ManagementApiNotifier(managementApi())),
    now: () => new Date(),
    messageRetentionDays: config.messageRetentionDays(),
    sendRate: config.sendRate(),
  };
}
