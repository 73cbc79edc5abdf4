import type { ModerationRecord } from '#core/identity/sessions';
import { roleIn } from '#core/moderation';
import { type Changer, kindOf, type Plan, type StoredMessage } from './changeKinds';

/** Where a change's moderation row goes (sessionHooks.ts auditModeration); absent: none kept. */
export interface ChangeAudit {
  audit?: (row: ModerationRecord) => Promise<void>;
}

/**
 * Puts a stored change that is a staff action on the room's moderation log (the Sessions table's
 * `#moderation#<roomId>`, core/identity/dynamoSessions.ts): the change's kind says which events are, under which
 * action (changeKinds/kind.ts `audited`), and the row names the changer's role. The target is the message's author as
 * the message shows them, the detail its seq, never its text. Never fails the change (auditModeration logs a lost row).
 */
export async function auditChange(
  deps: ChangeAudit,
  kind: string,
  planned: { message: StoredMessage; plan: Extract<Plan, { kind: 'change' }> },
  changer: Changer,
  now: Date,
): Promise<void> {
  const { event } = planned.plan;
  const action = kindOf({ kind }).audited?.(event);
  if (action === undefined || !deps.audit) return;
  const { message } = planned;
  await deps.audit({
    roomId: message.roomId,
    action,
    at: now.toISOString(),
    actor: changer.connection.username,
    actorRole: roleIn(changer.room, { userId: changer.connection.userId, key: changer.key }),
    target: message.username,
    detail: `seq ${message.seq}`,
  });
}
