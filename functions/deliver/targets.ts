import { type Frame, framesOf, type Group, resyncFrame } from '../domain/fanout/coalescing';
import type { CycleDeps, RoomPostInput } from './steps';

/** One member's posts: its frames, in order, and the group (range) they cover. */
export type Target = { connectionId: string; group: Group; frames: Frame[]; resyncAfter?: number };

/**
 * Each member's frames: its group's messages (read once per range, or the execution's own payload when the range is
 * that one message), after its resync frame when it has a note. `messagesRead` counts the reads it took.
 */
export async function targetsOf(
  store: CycleDeps['store'],
  input: RoomPostInput,
  groups: Group[],
  resync: RoomPostInput['resync'],
): Promise<{ targets: Target[]; messagesRead: number }> {
  const { roomId } = input;
  const ranges = new RangeFrames(store, input);
  const targets: Target[] = [];
  for (const group of groups) {
    const messageFrames = await ranges.framesFor(group.afterSeq, group.uptoSeq);
    for (const connectionId of group.connectionIds) {
      const resyncAfter = resync?.[connectionId];
      const frames =
        resyncAfter === undefined ? messageFrames : [resyncFrame(roomId, resyncAfter), ...messageFrames];
      if (frames.length > 0) targets.push({ connectionId, group, frames, resyncAfter });
    }
  }
  return { targets, messagesRead: ranges.messagesRead };
}

/** The frames of each range of messages, read once per post; the execution's own payload when it is the range. */
class RangeFrames {
  messagesRead = 0;
  private readonly known = new Map<string, Frame[]>();

  constructor(
    private readonly store: CycleDeps['store'],
    private readonly input: RoomPostInput,
  ) {}

  async framesFor(afterSeq: number, uptoSeq: number): Promise<Frame[]> {
    const key = `${afterSeq}:${uptoSeq}`;
    const known = this.known.get(key);
    if (known) return known;
    const frames = this.isOwnMessage(afterSeq, uptoSeq)
      ? [{ payload: this.input.payload as string, lastSeq: uptoSeq, messages: 1 }]
      : await this.read(afterSeq, uptoSeq);
    this.known.set(key, frames);
    return frames;
  }

  private isOwnMessage(afterSeq: number, uptoSeq: number): boolean {
    const { payload, payloadSeq } = this.input;
    return payload !== undefined && payloadSeq === uptoSeq && afterSeq === uptoSeq - 1;
  }

  private async read(afterSeq: number, uptoSeq: number): Promise<Frame[]> {
    this.messagesRead++;
    const { roomId } = this.input;
    return framesOf(roomId, await this.store.messages(roomId, afterSeq, uptoSeq));
  }
}
