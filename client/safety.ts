import type {
  AnsweredBy,
  AskOf,
  BlockedPerson,
  BlockListFrame,
  MessageFrame,
  Report,
  ReportOutcome,
  ReportResolvedFrame,
} from '../protocol';
import { REPORT_OUTCOMES, SAFETY_LIMITS, SAFETY_PATTERNS } from '../protocol';
import { RoomcastError } from './errors';
import type { Requester } from './requests';

/**
 * Blocking and reporting (docs/CLIENT.md, "Blocking and reporting"):
 *
 * ```ts
 * await client.safety.block(seq);             // the author of message seq of the current room, in every room
 * client.safety.isHidden(message);            // true for a blocked person's message: leave it out of the view
 * await client.safety.refresh(roomId);        // the keys to hide in another room you follow (each room once)
 * await client.safety.unblock(blockId);       // client.safety.blocked() lists whom you block
 * await client.safety.report(seq, 'spam');    // to the room's owner, its moderators and the operators
 * client.on('reported', ({ report }) => ...); // you own or moderate the room: someone reported a message of it
 * await client.safety.reports();              // owner and moderators: the current room's open reports, a page
 * await client.safety.resolve(id, 'dismissed'); // closed for every owner and moderator ('reportresolved')
 * ```
 *
 * The block list is kept by the server (the signed-in user's on every device, else this browser's resume token's).
 * A message's `authorKey` is salted with its room, so the hidden keys are asked per room: `block` and `refresh` give
 * them for the room they name.
 */

/** Sends a request and resolves with its reply (client/requests.ts). */
export type SafetySender = Requester;

const BLOCK_ID = new RegExp(SAFETY_PATTERNS.blockId);
const REPORT_ID = new RegExp(SAFETY_PATTERNS.reportId);
const REPORTS_CURSOR = new RegExp(SAFETY_PATTERNS.reportsCursor);

function checkSeq(seq: unknown): number {
  if (!Number.isSafeInteger(seq) || (seq as number) < 1)
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      'seq must be the seq of a message: a whole number of 1 or more.',
    );
  return seq as number;
}

export class Safety {
  private people: BlockedPerson[] = [];
  /** Per room, the authorKeys of blocked people there, as the server last gave them. */
  private readonly hiddenByRoom = new Map<string, Set<string>>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly send: SafetySender) {}

  /** Blocks the author of message `seq` of the current room (or of `roomId`, a room you follow). */
  async block(seq: number, roomId?: string): Promise<BlockListFrame> {
    return this.list({ action: 'block', seq: checkSeq(seq), ...(roomId !== undefined && { roomId }) });
  }

  /** Takes a person off the block list; their messages show again once each room is refreshed. */
  async unblock(blockId: string): Promise<BlockListFrame> {
    if (!BLOCK_ID.test(blockId))
      throw new RoomcastError('INVALID_ARGUMENT', 'blockId must be one of blocked() (16 characters).');
    const frame = await this.list({ action: 'unblock', blockId });
    this.hiddenByRoom.clear();
    this.changed();
    return frame;
  }

  /** Reads the block list again, with the keys to hide in the current room (or `roomId`). */
  async refresh(roomId?: string): Promise<BlockListFrame> {
    return this.list({ action: 'blocklist', ...(roomId !== undefined && { roomId }) });
  }

  /** Whom you block, as last read. */
  blocked(): BlockedPerson[] {
    return [...this.people];
  }

  /** Whether the message's author is blocked, by the keys last read for its room. */
  isHidden(message: Pick<MessageFrame, 'roomId' | 'authorKey'>): boolean {
    const { authorKey } = message;
    return authorKey !== undefined && (this.hiddenByRoom.get(message.roomId)?.has(authorKey) ?? false);
  }

  /** Whether the keys of `roomId` were read since the last unblock. */
  knows(roomId: string): boolean {
    return this.hiddenByRoom.has(roomId);
  }

  /** Calls `listener` whenever the list or a room's hidden keys change; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reports message `seq` of the current room (or `roomId`) with why (1–500 characters). */
  async report(seq: number, reason: string, roomId?: string): Promise<Report> {
    const why = reason.trim();
    if (why.length === 0 || [...why].length > SAFETY_LIMITS.reasonMaxChars)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `reason must say why: 1–${SAFETY_LIMITS.reasonMaxChars} characters.`,
      );
    const frame = await this.send({
      action: 'report',
      seq: checkSeq(seq),
      reason: why,
      ...(roomId !== undefined && { roomId }),
    });
    return frame.report;
  }

  /**
   * The open reports of the current room (or `roomId`), newest first, for its owner and moderators (FORBIDDEN for
   * anyone else): `limit` a page (1–50, absent 50); `before` the `next` of the page before.
   */
  async reports(
    roomId?: string,
    page: { limit?: number; before?: string } = {},
  ): Promise<{ reports: Report[]; next?: string }> {
    const max = SAFETY_LIMITS.reportsListed;
    const { limit, before } = page;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > max))
      throw new RoomcastError('INVALID_ARGUMENT', `limit must be a whole number from 1 to ${max}.`);
    if (before !== undefined && !REPORTS_CURSOR.test(before))
      throw new RoomcastError('INVALID_ARGUMENT', 'before must be the next of a reports page.');
    const frame = await this.send({
      action: 'reports',
      ...(roomId !== undefined && { roomId }),
      ...(limit !== undefined && { limit }),
      ...(before !== undefined && { before }),
    });
    return { reports: frame.reports, ...(frame.next !== undefined && { next: frame.next }) };
  }

  /**
   * Closes report `reportId` of the current room (or `roomId`) for every owner and moderator: 'dismissed', or
   * 'deleted' once its message is deleted (`client.messages.delete(seq)` first; refused while the message stands).
   */
  async resolve(reportId: string, outcome: ReportOutcome, roomId?: string): Promise<ReportResolvedFrame> {
    if (!REPORT_ID.test(reportId))
      throw new RoomcastError('INVALID_ARGUMENT', 'reportId must be the reportId of a listed report.');
    if (!REPORT_OUTCOMES.includes(outcome))
      throw new RoomcastError('INVALID_ARGUMENT', `outcome must be one of ${REPORT_OUTCOMES.join(', ')}.`);
    return this.send({
      action: 'resolvereport',
      reportId,
      outcome,
      ...(roomId !== undefined && { roomId }),
    });
  }

  private async list(frame: AskOf<AnsweredBy<'blocklist'>>): Promise<BlockListFrame> {
    const reply = await this.send(frame);
    this.people = reply.people;
    if (reply.roomId !== undefined) this.hiddenByRoom.set(reply.roomId, new Set(reply.hiddenKeys ?? []));
    this.changed();
    return reply;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
