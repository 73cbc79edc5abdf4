import { BadRequest } from '#core/errors';
import { pin } from '#pins/pin';
import type { ChangeAction } from '#protocol';
import { remove } from './delete';
import { edit } from './edit';
import type { ChangeKind } from './kind';
import { react } from './react';

/**
 * The change kinds, one per change action of the protocol (protocol/changes.ts CHANGE_ACTIONS): tsc refuses this
 * table while an action has no kind, so a kind named in the protocol is served as soon as its module is added here.
 * A kind is this folder's module, or a feature's that is a kind of change (`pinmessage`: functions/pins/pin.ts, typed
 * by shape as pins import no messages module). The order is the order of their fields in a message's frame
 * (changeFrames.ts messageFrameOf).
 */
export const CHANGE_KINDS = {
  editmessage: edit,
  deletemessage: remove,
  react,
  pinmessage: pin,
} as const satisfies Record<ChangeAction, ChangeKind<{ kind: string }>>;

/** What a member asks to change about a message: one of the kinds' requests. */
export type ChangeRequest = ReturnType<(typeof CHANGE_KINDS)[ChangeAction]['parse']>;

const KINDS: readonly ChangeKind<{ kind: string }>[] = Object.values(CHANGE_KINDS);

/** The kind of a request (as parsed by that kind, so always one of them). */
export function kindOf(request: { kind: string }): ChangeKind<{ kind: string }> {
  const kind = KINDS.find((k) => k.kind === request.kind);
  if (!kind) throw new Error(`No change kind "${request.kind}".`);
  return kind;
}

/** The kind an event's stored item belongs to (its `change`), undefined for an item of no kind this server knows. */
export function kindOfEvent(change: string): ChangeKind<{ kind: string }> | undefined {
  return KINDS.find((k) => k.event === change);
}

/**
 * The kind serving an action, by the action's name as the route gives it; an action with no kind (not a change, or
 * a name the protocol does not list) is a BadRequest naming it, never a crash.
 */
export function kindOfAction(action: string): (typeof CHANGE_KINDS)[ChangeAction] {
  const kind = Object.hasOwn(CHANGE_KINDS, action) ? CHANGE_KINDS[action as ChangeAction] : undefined;
  if (!kind) throw new BadRequest(`"${action}" is not a change this server can make yet.`);
  return kind;
}

/** Every kind, in CHANGE_KINDS's order. */
export const changeKinds = (): readonly ChangeKind<{ kind: string }>[] => KINDS;

export { pinsLimit } from '#pins/pin';
export type {
  ChangeKind,
  Changer,
  Plan,
  PlanContext,
  StoredChange,
  StoredMessage,
  TargetUpdate,
} from './kind';
export { kindsLimit, memberLimit, sourceKindsLimit, totalLimit } from './react';
