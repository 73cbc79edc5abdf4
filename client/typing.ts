import { LOBBY, TYPING_GRACE_MS, type TypingFrame } from '../protocol';
import { Emitter } from './emitter';
import type { ConnectionState, RoomcastEvents } from './types';

/** The template's default TypingIntervalSeconds; set `typingHeartbeatMs` to the deployment's if it differs. */
export const DEFAULT_TYPING_HEARTBEAT_MS = 5000;

/** Who is typing in a room now (never this client). */
export interface TypingUpdate {
  roomId: string;
  typists: string[];
}

/** What Typing uses of its client (RoomcastClient): its public members only. */
export interface TypingHost {
  readonly state: ConnectionState;
  readonly roomId: string;
  sendRaw(text: string): void;
  on<K extends keyof RoomcastEvents>(event: K, listener: (value: RoomcastEvents[K]) => void): () => void;
  /** The client's block list (client/safety.ts): a blocked person's typing is not shown, as their messages are not. */
  readonly safety?: { isHidden(message: { roomId: string; authorKey?: string }): boolean };
}

/**
 * `client.typing`, the typing indicators of the current room, as ably-chat-js's `typing`: `keystroke()` on every key
 * sends a heartbeat at most once per `heartbeatMs`; `stop()` tells the others at once (optional); its `typing` event
 * carries who is typing now. A typist is dropped when its heartbeat expires (the frame's `expiresInMs`), when a message of its
 * sent after that heartbeat arrives, or on its stop, so a lost or never-sent stop ends nothing wrongly. Nothing is queued while offline: after
 * a reconnect the next keystroke sends at once.
 *
 * ```ts
 * input.addEventListener('input', () => (input.value ? client.typing.keystroke() : client.typing.stop()));
 * client.typing.on('typing', ({ typists }) => (label.textContent = typists.length ? `${typists.join(', ')} typing…` : ''));
 * ```
 */
export class Typing extends Emitter<{ typing: TypingUpdate }> {
  private lastSentAt: number | undefined;
  /** Typist name -> its expiry timer, in order of arrival. */
  private readonly typists = new Map<string, ReturnType<typeof setTimeout>>();
  /** Typist name -> its key in the room (the frame's `authorKey`), to leave out a person blocked since. */
  private readonly keys = new Map<string, string>();
  /** Each of the room's latest senders' last message's `sentAt` (epoch ms; the 100 latest), for late heartbeats. */
  private readonly messageAt = new Map<string, number>();
  /** Typist name -> the server's relay time (`at`) of its latest heartbeat shown, for late messages. */
  private readonly heartbeatAt = new Map<string, number>();

  constructor(
    private readonly client: TypingHost,
    readonly heartbeatMs = DEFAULT_TYPING_HEARTBEAT_MS,
  ) {
    super();
    client.on('frame', ({ frame }) => {
      if (frame?.type === 'typing') this.onFrame(frame);
      // Acknowledged: this client's message ended its typing for the others, so the next keystroke sends.
      if (frame?.type === 'ack') this.lastSentAt = undefined;
    });
    client.on('message', (message) => this.onMessage(message));
    client.on('room', () => this.reset());
    client.on('close', () => this.reset());
  }

  /** Who is typing in the current room now (never this client, nor a person it blocks). */
  get current(): string[] {
    return [...this.typists.keys()].filter((name) => !this.hidden(this.keys.get(name)));
  }

  /** Whether the typist of key `authorKey` is blocked here, by the keys last read for the room. */
  private hidden(authorKey: string | undefined): boolean {
    return (
      authorKey !== undefined &&
      (this.client.safety?.isHidden({ roomId: this.client.roomId, authorKey }) ?? false)
    );
  }

  /** Call on every keystroke; true when it sent a heartbeat (at most one per `heartbeatMs`, never in the lobby). */
  keystroke(): boolean {
    if (this.client.roomId === LOBBY) return false;
    const now = Date.now();
    if (this.lastSentAt !== undefined && now - this.lastSentAt < this.heartbeatMs) return false;
    if (!this.write({ action: 'typing' })) return false;
    this.lastSentAt = now;
    return true;
  }

  /** Stopped typing (the input was cleared): the others are told, if a heartbeat of this client still shows. */
  stop(): void {
    const last = this.lastSentAt;
    this.lastSentAt = undefined;
    if (last === undefined || Date.now() - last >= this.heartbeatMs + TYPING_GRACE_MS) return;
    this.write({ action: 'typing', typing: false });
  }

  /** A `typing` frame: a typist of the current room shown until its heartbeat expires, or dropped on its stop. */
  private onFrame(frame: Record<string, unknown>): void {
    const { roomId, username, typing, expiresInMs } = frame as Partial<TypingFrame>;
    if (typeof username !== 'string' || typeof typing !== 'boolean' || roomId !== this.client.roomId) return;
    if (!typing) {
      this.drop(username);
      return;
    }
    // A heartbeat relayed before the typist's message can arrive after it (typing is relayed straight, messages
    // through the fan-out): shown, it would linger for a whole expiry under the message that ended it. The server's
    // relay time (`at`) against the message's `sentAt` tells; a heartbeat relayed after the message shows at once.
    const sentAt = this.messageAt.get(username);
    const at = (frame as { at?: unknown }).at;
    if (sentAt !== undefined && typeof at === 'number' && at <= sentAt) return;
    const { authorKey } = frame as Partial<TypingFrame>;
    if (typeof authorKey === 'string') this.keys.set(username, authorKey);
    if (this.hidden(this.keys.get(username))) return;
    const expiry =
      typeof expiresInMs === 'number' && expiresInMs > 0 ? expiresInMs : this.heartbeatMs + TYPING_GRACE_MS;
    if (typeof at === 'number') this.heartbeatAt.set(username, at);
    else this.heartbeatAt.delete(username);
    const known = this.typists.get(username);
    if (known !== undefined) clearTimeout(known);
    this.typists.set(
      username,
      setTimeout(() => this.drop(username), expiry),
    );
    if (known === undefined) this.changed();
  }

  /**
   * A message of the room: its sender is no longer typing (and a heartbeat of theirs relayed before it is ignored),
   * unless the typist's heartbeat shown was relayed after the message was sent: messages come through the fan-out,
   * later than heartbeats under load, and the typist who sent and went on typing is still typing.
   */
  private onMessage(message: { roomId: string; username?: string; sentAt?: string }): void {
    if (message.username === undefined || message.roomId !== this.client.roomId) return;
    const sentAt = Date.parse(message.sentAt ?? '');
    if (Number.isFinite(sentAt)) this.messageAt.set(message.username, sentAt);
    if (this.messageAt.size > 100) this.messageAt.delete(this.messageAt.keys().next().value as string);
    const heartbeatAt = this.heartbeatAt.get(message.username);
    if (heartbeatAt !== undefined && Number.isFinite(sentAt) && heartbeatAt > sentAt) return;
    this.drop(message.username);
  }

  /** The room changed or the connection closed: no typist is known any more, and the next keystroke sends. */
  private reset(): void {
    this.lastSentAt = undefined;
    if (this.typists.size === 0) return;
    for (const timer of this.typists.values()) clearTimeout(timer);
    this.typists.clear();
    this.keys.clear();
    this.heartbeatAt.clear();
    this.changed();
  }

  /** Sends on the resumed connection; false when there is none (nothing is queued for later). */
  private write(frame: Record<string, unknown>): boolean {
    if (this.client.state !== 'ready') return false;
    try {
      this.client.sendRaw(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  private drop(username: string): void {
    const timer = this.typists.get(username);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.typists.delete(username);
    this.keys.delete(username);
    this.heartbeatAt.delete(username);
    this.changed();
  }

  private changed(): void {
    this.emit('typing', { roomId: this.client.roomId, typists: this.current });
  }
}
