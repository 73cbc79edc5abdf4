import { createHash, randomUUID } from 'node:crypto';
import { MessageDeleted, MessageNotFound } from '#core/changeErrors';
import { BadRequest, Forbidden, RateLimited } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import type { ModerationRecord } from '#core/identity/sessions';
import type { QuotaDeps } from '#core/limits/quotas';
import { dmRoomId, memberKey, memberKeyOf, membershipTtl, senderOf } from '#core/memberKeys';
import { moderationOf, roleIn } from '#core/moderation';
import { parseCursorPage } from '#core/pages';
import type { ChatPorts, Connection, Room } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { logger } from '#platform/powertools';
import {
  type BlockedPerson,
  type BlockListFrame,
  REPORT_OUTCOMES,
  type Report,
  type ReportedFrame,
  type ReportOutcome,
  type ReportResolvedFrame,
  type ReportsFrame,
  type Role,
  SAFETY_LIMITS,
  SAFETY_PATTERNS,
} from '#protocol';
import type { AuditLog, ReportStore, ReportsAfter } from './audit';
import type { BlockEntry, BlockStore } from './dynamoBlocks';
import type { DmBlocks } from './dynamoDmBlocks';
import { refuseListedWords } from './labels';

/**
 * Blocking and reporting (docs/PROTOCOL.md, "Blocking and reporting"; the design: docs/DECISIONS.md, "Blocking,
 * reports and the word filter"). Both name a message of a room the caller follows (`seq`): the server reads who
 * wrote it from the message's item (`authorId`), which no frame shows.
 */

/** A message as block and report read it: what a report keeps, and who wrote it. */
export interface ReportedMessage {
  username: string;
  text: string;
  sentAt: string;
  authorKey?: string;
  authorId?: string;
  deleted?: boolean;
}

export interface MessageLookup {
  /** The message stored under `seq` (undefined for a change, a gap, or nothing). */
  message(roomId: string, seq: number): Promise<ReportedMessage | undefined>;
}

export type SafetyDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'notifier' | 'now'> & {
  blocks: BlockStore;
  dmBlocks: DmBlocks;
  messages: MessageLookup;
  reports: ReportStore;
  audit: AuditLog;
  /** The reporter's report bucket (ReportRateLimit per hour, per person). */
  reportQuota: QuotaDeps;
  /** The connections of a signed-in user (the connections table's user index), for the owner's live notice. */
  devicesOf: (userId: string) => Promise<string[]>;
  /** Puts a resolution on the room's moderation log (sessionHooks.ts auditModeration); absent: none kept. */
  roomLog?: (row: ModerationRecord) => Promise<void>;
};

const BLOCK_ID = new RegExp(SAFETY_PATTERNS.blockId);
const REPORT_ID = new RegExp(SAFETY_PATTERNS.reportId);
const REPORTS_CURSOR = new RegExp(SAFETY_PATTERNS.reportsCursor);
const signedIn = (id: string) => id.startsWith('user:');

/** A message's seq as block and report take it. */
export function parseSeq(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new BadRequest('"seq" must be the seq of a message in the room (a whole number from 1).');
  return value;
}

export function parseBlockId(value: unknown): string {
  if (typeof value !== 'string' || !BLOCK_ID.test(value))
    throw new BadRequest('"blockId" must be a blockId from your block list (16 characters).');
  return value;
}

export function parseReason(value: unknown): string {
  const reason = typeof value === 'string' ? value.trim() : '';
  const chars = [...reason].length;
  if (chars < 1 || chars > SAFETY_LIMITS.reasonMaxChars)
    throw new BadRequest(
      `"reason" must say why you report the message: 1–${SAFETY_LIMITS.reasonMaxChars} characters.`,
    );
  // The room's owner and moderators read it in `reports`.
  refuseListedWords(reason, 'reason');
  return reason;
}

export function parseReportId(value: unknown): string {
  if (typeof value !== 'string' || !REPORT_ID.test(value))
    throw new BadRequest('"reportId" must be the reportId of a report the room\'s `reports` lists.');
  return value;
}

export function parseOutcome(value: unknown): ReportOutcome {
  if (!REPORT_OUTCOMES.includes(value as ReportOutcome))
    throw new BadRequest(`"outcome" must be one of ${REPORT_OUTCOMES.map((o) => `"${o}"`).join(', ')}.`);
  return value as ReportOutcome;
}

/** A `reports` page's size and start: `limit` 1–reportsListed (absent: reportsListed), `before` a page's `next`. */
export function parsePage(limit: unknown, before: unknown): { limit: number; after?: ReportsAfter } {
  const page = parseCursorPage(limit, before, {
    max: SAFETY_LIMITS.reportsListed,
    cursor: REPORTS_CURSOR,
    route: 'reports',
    newest: 'the newest reports',
  });
  return {
    limit: page.limit,
    ...(page.cursor && { after: { reportedAt: page.cursor[0], reportId: page.cursor[1] } }),
  };
}

/** The blocked person's id on the blocker's list: opaque, the same for the same pair, naming neither. */
function blockIdOf(blocker: string, who: string): string {
  return createHash('sha256').update(`block\n${blocker}\n${who}`).digest('base64url').slice(0, 16);
}

const shown = (entries: BlockEntry[]): BlockedPerson[] =>
  entries
    .map(({ blockId, username, blockedAt }) => ({ blockId, username, blockedAt }))
    .sort((a, b) => (a.blockedAt < b.blockedAt ? -1 : a.blockedAt > b.blockedAt ? 1 : 0));

/** The list as a frame, with the keys the blocked people's messages carry in `roomId`. */
function listFrame(entries: BlockEntry[], roomId?: string): BlockListFrame {
  return {
    type: 'blocklist',
    people: shown(entries),
    ...(roomId !== undefined && {
      roomId,
      hiddenKeys: [...new Set(entries.map((e) => memberKey(roomId, e.who)))],
    }),
  };
}

/** The message `seq` of the caller's room, or why there is none to act on. */
async function messageOf(deps: SafetyDeps, roomId: string, seq: number): Promise<ReportedMessage> {
  const message = await deps.messages.message(roomId, seq);
  if (!message) throw new MessageNotFound(`There is no message ${seq} in room ${roomId}.`);
  if (message.deleted) throw new MessageDeleted(`Message ${seq} was deleted.`);
  return message;
}

/**
 * Blocks the author of message `seq` of the caller's room: added to the caller's list (its identity as its messages
 * carry it), and, between two signed-in users, marked on their direct-message room's blocks item so that neither
 * `opendm` nor a send reaches the blocker from them.
 */
export async function block(deps: SafetyDeps, connectionId: string, seq: number): Promise<BlockListFrame> {
  const caller = await requireConnection(deps, connectionId);
  const { roomId } = caller;
  const message = await messageOf(deps, roomId, seq);
  const who = message.authorId;
  if (who === undefined)
    throw new BadRequest(`Message ${seq} does not say who wrote it (it was sent before blocking existed).`);
  const blocker = memberKeyOf(caller);
  if (who === senderOf(caller) || who === blocker)
    throw new BadRequest('That is your own message: you cannot block yourself.');
  const entries = await deps.blocks.list(blocker);
  const blockId = blockIdOf(blocker, who);
  if (!entries.some((e) => e.blockId === blockId)) {
    if (entries.length >= SAFETY_LIMITS.blockedMax)
      throw new BadRequest(
        `You block ${SAFETY_LIMITS.blockedMax} people already, the most you can: unblock someone first.`,
      );
    const now = deps.now();
    const entry = { blockId, who, username: message.username, blockedAt: now.toISOString() };
    await deps.blocks.add(blocker, entry, membershipTtl(blocker, now));
    entries.push(entry);
    if (signedIn(blocker) && signedIn(who)) await deps.dmBlocks.mark(dmRoomId(blocker, who), blocker, true);
  }
  return listFrame(entries, roomId);
}

export async function unblock(
  deps: SafetyDeps,
  connectionId: string,
  blockId: string,
): Promise<BlockListFrame> {
  const caller = await requireConnection(deps, connectionId);
  const blocker = memberKeyOf(caller);
  const removed = await deps.blocks.remove(blocker, blockId);
  if (removed && signedIn(blocker) && signedIn(removed.who))
    await deps.dmBlocks.mark(dmRoomId(blocker, removed.who), blocker, false);
  return listFrame((await deps.blocks.list(blocker)).filter((e) => e.blockId !== blockId));
}

export async function blockList(deps: SafetyDeps, connectionId: string): Promise<BlockListFrame> {
  const caller = await requireConnection(deps, connectionId);
  return listFrame(await deps.blocks.list(memberKeyOf(caller)), caller.roomId);
}

/**
 * Reports message `seq` of the caller's room: kept with the message as it is now (its text survives a later delete),
 * recorded in the moderation log (the operators' queue), and pushed to the room's staff (staffConnections). Each
 * person may report ReportRateLimit messages an hour; nobody reports their own.
 */
export async function report(
  deps: SafetyDeps,
  connectionId: string,
  input: { seq: number; reason: string; owner: string },
): Promise<ReportedFrame> {
  const caller = await requireConnection(deps, connectionId);
  const { roomId } = caller;
  const message = await messageOf(deps, roomId, input.seq);
  // One's own message is deleted, not reported: a report would only fill the staff's queue (and spend no budget).
  if (message.authorId !== undefined && [senderOf(caller), memberKeyOf(caller)].includes(message.authorId))
    throw new BadRequest('That is your own message: delete it instead of reporting it.');
  if (!(await takeReport(deps.reportQuota, input.owner)))
    throw new RateLimited(
      `You can report ${deps.reportQuota.rate?.limit} messages an hour: the room's owner and the operators have your reports.`,
    );
  const reportedAt = deps.now().toISOString();
  const filed: Report = {
    reportId: randomUUID(),
    roomId,
    seq: input.seq,
    reason: input.reason,
    reportedAt,
    reportedBy: caller.username,
    message: {
      username: message.username,
      text: message.text,
      sentAt: message.sentAt,
      ...(message.authorKey !== undefined && { authorKey: message.authorKey }),
    },
  };
  const reporter = senderOf(caller);
  await Promise.all([
    deps.reports.keep(filed, reporter),
    deps.audit.record({
      kind: 'report',
      roomId,
      actor: reporter,
      actorName: caller.username,
      at: reportedAt,
      detail: {
        reportId: filed.reportId,
        seq: input.seq,
        ...(message.authorId && { author: message.authorId }),
      },
    }),
  ]);
  const frame: ReportedFrame = { type: 'reported', report: filed };
  await tellStaff(deps, caller, frame);
  return frame;
}

/**
 * Who acts on a room's reports, live: every connection of its owner (the user index: the owner hears of a report in
 * any room it shows), and its moderators' connections in the room. A moderator is a key on the room's item
 * (core/moderation.ts) with the name it was made under: the room's listed members showing that name are read and
 * kept when their key is the moderator's (a name alone proves nothing: it may be taken again after the moderator left).
 */
async function staffConnections(deps: SafetyDeps, roomId: string): Promise<string[]> {
  const room = await deps.rooms.get(roomId);
  if (!room) return [];
  const { ownerId } = room;
  const owner =
    ownerId === undefined
      ? []
      : ownerId.startsWith('connection:')
        ? [ownerId.slice('connection:'.length)]
        : await deps.devicesOf(ownerId);
  const moderators = moderationOf(room).moderators;
  if (moderators.size === 0) return owner;
  const names = new Set(moderators.values());
  const { members } = await deps.connections.listMembers(roomId, Number.POSITIVE_INFINITY);
  const named = members.filter((m) => names.has(m.username) && !owner.includes(m.connectionId));
  const found = await Promise.all(named.map((m) => deps.connections.get(m.connectionId)));
  const mods = found.filter(
    (c): c is Connection => c !== undefined && moderators.has(memberKey(roomId, senderOf(c))),
  );
  return [...owner, ...mods.map((c) => c.connectionId)];
}

/** The room's staff hear of a report or its resolution at once; advisory: a failed post loses only the notice. */
async function tellStaff(
  deps: SafetyDeps,
  caller: Connection,
  frame: ReportedFrame | ReportResolvedFrame,
): Promise<void> {
  if (caller.roomId === LOBBY) return;
  try {
    const targets = await staffConnections(deps, caller.roomId);
    const payload = JSON.stringify(frame);
    await Promise.all(
      targets
        .filter((id) => id !== caller.connectionId)
        .map((id) => deps.notifier.post(id, payload).catch(() => undefined)),
    );
  } catch (error) {
    logger.warn("a report's notice to the room's staff failed", { error: String(error) });
  }
}

async function takeReport(quota: QuotaDeps, owner: string): Promise<boolean> {
  const { rate } = quota;
  if (!rate || rate.limit <= 0) return true;
  const intervalMs = (rate.windowSeconds * 1000) / rate.limit;
  return quota.store.take(`report#${owner}`, quota.now().getTime(), intervalMs, rate.limit);
}

/**
 * The caller, when it is the owner or a moderator of its room, with its role and the room as read; FORBIDDEN for
 * anyone else (`what`: what of the room it asked for).
 */
export async function staffCaller(
  deps: Pick<SafetyDeps, 'connections' | 'rooms'>,
  connectionId: string,
  verb: string,
  what = 'its reports',
): Promise<Connection & { role: Role; room: Room }> {
  const caller = await requireConnection(deps, connectionId);
  const { roomId } = caller;
  const room = roomId === LOBBY ? undefined : await deps.rooms.get(roomId);
  const role = roleIn(room, { userId: caller.userId, key: memberKey(roomId, senderOf(caller)) });
  if (role === 'member' || room === undefined)
    throw new Forbidden(`Only the owner or a moderator of room ${roomId} can ${verb} ${what}.`);
  return { ...caller, role, room };
}

/** The open reports of the caller's room, newest first, a page at a time: its owner and moderators only. */
export async function reports(
  deps: SafetyDeps,
  connectionId: string,
  page: { limit: number; after?: ReportsAfter },
): Promise<ReportsFrame> {
  const { roomId } = await staffCaller(deps, connectionId, 'read');
  const found = await deps.reports.ofRoom(roomId, page.limit, page.after);
  const last = found.reports.at(-1);
  return {
    type: 'reports',
    roomId,
    reports: found.reports,
    ...(found.more && last && { next: `${last.reportedAt}~${last.reportId}` }),
  };
}

/**
 * Closes an open report of the caller's room, for every owner's and moderator's list: `deleted` only once the message
 * is deleted (the moderator's `deletemessage`: the message's tombstone is its record), `dismissed` as it stands. One
 * conditional write: of two staff closing it at once, one is told it is closed already.
 */
export async function resolveReport(
  deps: SafetyDeps,
  connectionId: string,
  input: { reportId: string; outcome: ReportOutcome },
): Promise<ReportResolvedFrame> {
  const caller = await staffCaller(deps, connectionId, 'resolve');
  const { roomId } = caller;
  const found = await deps.reports.find(input.reportId);
  if (!found || found.roomId !== roomId)
    throw new BadRequest(
      `Room ${roomId} has no report ${input.reportId}: ask \`reports\` for its open reports.`,
    );
  if (input.outcome === 'deleted') {
    const message = await deps.messages.message(roomId, found.seq);
    if (message && !message.deleted)
      throw new BadRequest(
        `Message ${found.seq} is not deleted: delete it first (\`deletemessage\`), or dismiss the report.`,
      );
  }
  const resolvedAt = deps.now().toISOString();
  const resolution = { outcome: input.outcome, resolvedBy: caller.username, resolvedAt };
  if (!(await deps.reports.resolve(roomId, input.reportId, resolution)))
    throw new BadRequest(`Report ${input.reportId} is resolved already: ask \`reports\` for the open ones.`);
  await deps.audit.record({
    kind: 'resolvereport',
    roomId,
    actor: senderOf(caller),
    actorName: caller.username,
    at: resolvedAt,
    detail: { reportId: input.reportId, seq: found.seq, outcome: input.outcome },
  });
  // The room's own moderation log too, which its staff read (`modlog`): the operators' day log is not theirs.
  await deps.roomLog?.({
    roomId,
    action: 'resolvereport',
    at: resolvedAt,
    actor: caller.username,
    actorRole: caller.role,
    target: found.message.username,
    detail: `seq ${found.seq} ${input.outcome}`,
  });
  const frame: ReportResolvedFrame = {
    type: 'reportresolved',
    roomId,
    reportId: input.reportId,
    ...resolution,
  };
  await tellStaff(deps, caller, frame);
  return frame;
}
