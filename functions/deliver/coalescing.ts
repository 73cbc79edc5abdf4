import type { MemberChange, MembersChangedFrame, PresenceFrame, SeenByMember, SeenFrame } from '#protocol';

/**
 * Coalesced delivery of a room's events (docs/DECISIONS.md, "The fan-out at AWS's scale"). One execution at a time
 * reads a room's log after its cursor, cycle after cycle (roomLog.ts): each cycle posts each member one frame for the
 * run of messages it read (a `batch` frame, or the plain `message` frame for one), so a busy room's members get a post
 * per cycle, not per message; the cycle's presence changes and read positions, which come through the fan-out queue,
 * go as one frame each.
 */

/** API Gateway's WebSocket frame: a batch never exceeds it (UTF-8 bytes of the JSON text). */
export const FRAME_LIMIT_BYTES = 32_768;

/** One post to one connection: its serialized frame and the seqs it carries. */
export interface Frame {
  payload: string;
  /**
   * The first seq the frame carries (an event, or the lowest of its `gaps`): a member that misses it is owed the
   * messages after `firstSeq - 1`.
   */
  firstSeq?: number;
  lastSeq: number;
  /** Messages it carries: 0 for a resync frame or an event that is no message (presence, a room's broadcast). */
  messages: number;
  /** The room's close (its `Broadcast`'s movesOut): the chunk's members are moved to the lobby before their posts. */
  movesOut?: string;
}

/**
 * One entry of a room's log as the fan-out read it (roomLog.ts): an event's frame as sendmessage serialized it
 * (`messageFrameOf`, `changeFrameOf`) and its seq, or a seq given up (no payload: a gap marker or a fence).
 */
interface SeqPayload {
  seq: number;
  payload?: string;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** The bytes `gaps` adds to a frame: `,"gaps":[` and `]`, each seq's digits and the commas between them. */
const gapsBytes = (gaps: readonly number[]) =>
  gaps.length === 0 ? 0 : 10 + gaps.reduce((n, seq) => n + String(seq).length, 0) + gaps.length - 1;
const gapsField = (gaps: readonly number[]) => (gaps.length === 0 ? '' : `,"gaps":[${gaps.join(',')}]`);

/**
 * The frames that carry a room's entries (ascending seq): consecutive events share a `batch` frame while it stays
 * within FRAME_LIMIT_BYTES; a batch is never made of one event (that goes as its own frame, so an event too long to
 * share a frame goes alone). Each frame lists in `gaps` the seqs given up below its events and above the previous
 * frame's (docs/DECISIONS.md, "Gaps are told where members read"), so a member holding its events waits for no hole
 * and reads no `history`; a lone event gets the field spliced into its own frame. Gaps after the last event go with no
 * frame: the cursor keeps them for the room's next event (roomLog.ts). A lone event whose gaps would take it past
 * FRAME_LIMIT_BYTES keeps the highest that fit (the rest a member reads from `history`).
 */
export function batchFrames(roomId: string, entries: readonly SeqPayload[]): Frame[] {
  const head = JSON.stringify({ type: 'batch', roomId, messages: [] }).slice(0, -2);
  const overhead = utf8(head) + 2;
  const frames: Frame[] = [];
  let pending: { seq: number; payload: string }[] = [];
  let pendingBytes = 0;
  /** The gaps of the pending frame, and those since its last event (they go with the next one). */
  let frameGaps: number[] = [];
  let before: number[] = [];
  const flush = () => {
    const first = pending[0];
    const last = pending[pending.length - 1];
    if (!first || !last) return;
    const field = gapsField(frameGaps);
    const payload =
      pending.length === 1
        ? field === ''
          ? last.payload
          : `${last.payload.slice(0, -1)}${field}}`
        : `${head}${pending.map((m) => m.payload).join(',')}]${field}}`;
    const firstSeq = Math.min(first.seq, frameGaps[0] ?? first.seq);
    frames.push({ payload, firstSeq, lastSeq: last.seq, messages: pending.length });
    pending = [];
    pendingBytes = 0;
    frameGaps = [];
  };
  for (const entry of entries) {
    if (entry.payload === undefined) {
      before.push(entry.seq);
      continue;
    }
    const bytes = utf8(entry.payload);
    // A batch of the pending events and this one: the overhead, every event and a comma between each two, the gaps.
    if (
      pending.length > 0 &&
      overhead + pendingBytes + pending.length + bytes + gapsBytes([...frameGaps, ...before]) >
        FRAME_LIMIT_BYTES
    )
      flush();
    frameGaps.push(...before);
    before = [];
    if (pending.length === 0)
      while (frameGaps.length > 0 && bytes + gapsBytes(frameGaps) > FRAME_LIMIT_BYTES) frameGaps.shift();
    pending.push({ seq: entry.seq, payload: entry.payload });
    pendingBytes += bytes;
  }
  flush();
  return frames;
}

/** The frame that tells a member to fetch the room's messages after `afterSeq` from history. */
export const resyncFrame = (roomId: string, afterSeq: number): Frame => ({
  payload: JSON.stringify({ type: 'resync', roomId, afterSeq }),
  lastSeq: afterSeq,
  messages: 0,
});

/**
 * A room's state events of one fan-out cycle (the queue's batch), each member getting one frame per kind however many
 * came: presence changes (a join wave of k members costs each member one post, not k) and read positions ("seen by").
 * `frames` are the room's frames as Prepare ordered them; what is returned holds the same message frames in the same
 * order, and:
 * - the presence frames as one `memberschanged` frame, in the first one's place, its changes in the queue's order (a
 *   join still comes before the joiner's first message); a lone one stays a `presence` frame;
 * - the `seen` frames as one, each member once at its furthest position, after the cycle's messages (the positions
 *   name seqs the member may be about to get in this very cycle);
 * - a person's `profile` frames as its last one, in that one's place: each carries the whole profile
 *   (profiles/profiles.ts), so the last says all the earlier ones did (docs/DECISIONS.md, "A profile change told
 *   once a cycle").
 * A cycle holds at most ten events (the pipe's batch), so neither frame comes near FRAME_LIMIT_BYTES.
 */
export function coalesceRoomState(roomId: string, frames: readonly Frame[]): Frame[] {
  const out: Frame[] = [];
  const changes: MemberChange[] = [];
  let presenceAt = -1;
  const seen = new Map<string, SeenByMember>();
  const lastProfile = new Map<string, number>();
  frames.forEach((frame, i) => {
    const person = profileOf(frame);
    if (person !== undefined) lastProfile.set(person, i);
  });
  for (const [i, frame] of frames.entries()) {
    const person = profileOf(frame);
    if (person !== undefined && lastProfile.get(person) !== i) continue;
    const state = stateOf(frame);
    if (state?.type === 'presence') {
      if (presenceAt < 0) {
        presenceAt = out.length;
        out.push(frame);
      }
      changes.push({
        event: state.event,
        username: state.username,
        ...(state.reason && { reason: state.reason }),
      });
    } else if (state?.type === 'seen') {
      for (const member of state.members) {
        const key = member.userId ?? `name:${member.username}`;
        const known = seen.get(key);
        if (!known || member.lastReadSeq > known.lastReadSeq) seen.set(key, member);
      }
    } else out.push(frame);
  }
  if (changes.length > 1) {
    const merged: MembersChangedFrame = { type: 'memberschanged', roomId, changes };
    out[presenceAt] = stateFrame(JSON.stringify(merged));
  }
  if (seen.size > 0) {
    const merged: SeenFrame = { type: 'seen', roomId, members: [...seen.values()] };
    out.push(stateFrame(JSON.stringify(merged)));
  }
  return out;
}

const stateFrame = (payload: string): Frame => ({ payload, lastSeq: 0, messages: 0 });

/** Whose profile a `profile` frame tells (its member key in the room, else its user); undefined for any other frame. */
function profileOf(frame: Frame): string | undefined {
  if (frame.messages > 0 || !frame.payload.startsWith('{"type":"profile"')) return undefined;
  try {
    const { authorKey, userId } = JSON.parse(frame.payload) as { authorKey?: unknown; userId?: unknown };
    if (typeof authorKey === 'string') return `key:${authorKey}`;
    if (typeof userId === 'string') return `user:${userId}`;
  } catch {
    // Not JSON: posted as it came.
  }
  return undefined;
}

/** A presence or seen frame's content; undefined for any other frame (messages are never parsed here). */
function stateOf(frame: Frame): PresenceFrame | SeenFrame | undefined {
  if (frame.messages > 0) return undefined;
  if (!frame.payload.startsWith('{"type":"presence"') && !frame.payload.startsWith('{"type":"seen"'))
    return undefined;
  try {
    const parsed = JSON.parse(frame.payload) as PresenceFrame | SeenFrame;
    if (parsed.type === 'presence' && typeof parsed.username === 'string') return parsed;
    if (parsed.type === 'seen' && Array.isArray(parsed.members)) return parsed;
  } catch {
    // Not JSON: posted as it came.
  }
  return undefined;
}
