import { BadRequest } from '#core/errors';
import { type ChangeRequest, kindOfAction } from './changeKinds';

/** The seq of the message a change names: a whole number of 1 or more. */
export function parseTargetSeq(body: Record<string, unknown>): number {
  const { seq } = body;
  if (!Number.isSafeInteger(seq) || (seq as number) < 1)
    throw new BadRequest('"seq" must be the seq of a message: a whole number of 1 or more.');
  return seq as number;
}

/**
 * What a change frame asks, read by its kind (changeKinds/). The route table serves every change action the protocol
 * names (changes.ts); one with no kind is refused with a BadRequest naming it.
 */
export function parseChangeRequest(action: string, body: Record<string, unknown>): ChangeRequest {
  return kindOfAction(action).parse(body);
}
