import type { ModerationRecord } from '#core/identity/sessions';
import { roleIn } from '#core/moderation';
import type { Changer, Plan, StoredMessage } from './changeKinds';

/** Where a change's moderation row goes (sessionHooks.ts auditModeration); absent: none kept. */
export interface ChangeAudit {
  audit?: (row: ModerationRecord) => Promise<void>;
}

/**
 * Puts a stored change that is a staff action on the room's moderation log (the Sessions table's
 * `#moderation#<roomId>`, core/identity/dynamoSessions.ts): a delete by the room's owner or a moderator (an author's
 * own delete is not moderation, and writes none), and every pin and unpin (the room's owner or a moderator curating
 * the room, or a member the owner let pin: the row names the role). The target is the message's author as the
 * message shows them, the detail its seq, never its text. Never fails the change (auditModeration logs a lost row).
 */
export async function auditChange(
  deps: ChangeAudit,
  kind: string,
  planned: { message: StoredMessage; plan: Extract<Plan, { kind: 'change' }> },
  changer: Changer,
  now: Date,
): Promise<void> {
  const { event } = planned.plan;
  const action =
    kind === 'delete' && (event.by === 'owner' || event.by === 'moderator')
      ? 'deletemessage'
      : kind === 'pin'
        ? event.pinned === true
          ? 'pinmessage'
          : 'unpinmessage'
        : undefined;
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
