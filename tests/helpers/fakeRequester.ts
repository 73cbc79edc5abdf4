import type { Requester } from '../../client/requests';

/**
 * A fake server's answers as the client library's typed sender (client/requests.ts Requester): the test sees each
 * request as a plain object and answers any frame, as a server would put it on the wire.
 */
export function fakeRequester(answer: (frame: Record<string, unknown>) => Promise<unknown>): Requester {
  return ((frame: Record<string, unknown>) => answer(frame)) as unknown as Requester;
}
