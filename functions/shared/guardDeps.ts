import { DeleteConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { dynamo, managementApi } from './adapters/clients';
import { DynamoGuardStore } from './adapters/dynamoGuard';
import { numberEnv } from './config';
import type { ConnectionCloser, GuardDeps, GuardLimits } from './guard';

/** The guard's limits from the template's parameters (FrameRateLimit, JoinGuessLimit, StrikeLimit, ...). */
export function guardLimits(): GuardLimits {
  const frames = numberEnv('FRAME_RATE_LIMIT', 0);
  const guesses = numberEnv('JOIN_GUESS_LIMIT', 0);
  const strikes = numberEnv('STRIKE_LIMIT', 0);
  return {
    ...(frames > 0 && {
      frames: { limit: frames, windowSeconds: numberEnv('FRAME_RATE_WINDOW_SECONDS', 60) },
    }),
    ...(guesses > 0 && {
      joinGuesses: { limit: guesses, windowSeconds: numberEnv('JOIN_GUESS_REFILL_HOURS', 240) * 3600 },
    }),
    ...(strikes > 0 && { strikes }),
  };
}

/** Closes through the management API: the reason as an error frame first, then DeleteConnection. */
const managementCloser: ConnectionCloser = {
  async close(connectionId, frame) {
    const api = managementApi();
    await api
      .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }))
      .catch(() => undefined);
    await api.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
  },
};

let shared: GuardDeps | undefined;

/** The guard of this runtime, built once. */
export function guardDeps(): GuardDeps {
  shared ??= {
    store: new DynamoGuardStore(dynamo()),
    closer: managementCloser,
    limits: guardLimits(),
    now: () => new Date(),
  };
  return shared;
}
