import type { StoredMessage } from '#messages/changeFrames';
import { parseChangeRequest } from '#messages/changeParse';
import { type Changer, planChange } from '#messages/changePlanning';
import type { ChangedFrame, ChangeFrame, MessageFrame } from '#protocol';
import { CHANGE_LIMITS, isReaction } from '#protocol';
import { RoomMessages } from '../../client/messages';

/** The rules of a change as the member sees them, without AWS: who may, until when, and what a repeat does. */

const WINDOW_MS = 15 * 60_000;
const sentAt = new Date('2026-01-01T12:00:00Z');
const message: StoredMessage = {
  roomId: 'K7M2QX9A',
  seq: 3,
  messageId: 'm3',
  username: 'alice',
  text: 'hi',
  sentAt: sentAt.toISOString(),
  authorKey: 'alice-key',
};
const room = { roomId: 'K7M2QX9A', createdAt: '', seq: 3, ownerId: 'connection:owner' };
const as = (key: string, userId = `connection:${key}`): Changer => ({
  key,
  room,
  connection: { connectionId: key, roomId: room.roomId, username: key, connectedAt: '', userId },
});
const later = (ms: number) => new Date(sentAt.getTime() + ms);

describe('edit window', () => {
  it('lets the author edit and delete within the window, and refuses both once it has passed', () => {
    expect(
      planChange(message, { kind: 'edit', text: 'hello' }, as('alice-key'), later(WINDOW_MS), WINDOW_MS).kind,
    ).toBe('change');
    const late = later(WINDOW_MS + 1);
    for (const request of [{ kind: 'edit', text: 'hello' } as const, { kind: 'delete' } as const])
      expect(() => planChange(message, request, as('alice-key'), late, WINDOW_MS)).toThrow(
        expect.objectContaining({ code: 'EDIT_WINDOW_PASSED' }),
      );
  });

  it("lets the room's owner delete any message at any time, and no one else", () => {
    const owner = as('owner-key', 'connection:owner');
    const plan = planChange(message, { kind: 'delete' }, owner, later(10 * WINDOW_MS), WINDOW_MS);
    expect(plan).toMatchObject({
      kind: 'change',
      update: { set: { deleted: 'owner' } },
      event: { by: 'owner' },
    });
    expect(() => planChange(message, { kind: 'delete' }, as('bob-key'), later(0), WINDOW_MS)).toThrow(
      expect.objectContaining({ code: 'NOT_AUTHOR' }),
    );
  });
});

describe('reactions', () => {
  it('are one emoji grapheme, skin tones and ZWJ sequences included', () => {
    expect(['👍', '👍🏽', '🏳️‍🌈', '❤️'].every(isReaction)).toBe(true);
    expect(['', 'ok', '👍👍', ':+1:', '1', '👍 '].some(isReaction)).toBe(false);
  });

  it('count each member once, and adding twice or removing what was not given changes nothing', () => {
    const bob = as('bob-key');
    const added = planChange(
      message,
      { kind: 'react', reaction: '👍', remove: false },
      bob,
      sentAt,
      WINDOW_MS,
    );
    expect(added).toMatchObject({ kind: 'change', event: { added: true, reaction: '👍' } });
    const summary = { counts: { '👍': 1 }, total: 1, lastSeq: 4 };
    const plan = (remove: boolean, given: string[]) =>
      planChange(message, { kind: 'react', reaction: '👍', remove }, bob, sentAt, WINDOW_MS, {
        summary,
        given,
      }).kind;
    expect(plan(false, ['👍'])).toBe('unchanged');
    expect(plan(true, [])).toBe('unchanged');
    expect(plan(true, ['👍'])).toBe('change');
  });

  it('take an emoji typed without its presentation selector as the same reaction (a bare ❤ is ❤️)', () => {
    const react = (reaction: string) => parseChangeRequest('react', { seq: 1, reaction });
    expect(react('\u2764')).toEqual({ kind: 'react', reaction: '\u2764\uFE0F', remove: false });
    expect(react('\u2764\u200D\u{1F525}')).toMatchObject({ reaction: '\u2764\uFE0F\u200D\u{1F525}' }); // ❤‍🔥
    expect(react('👍🏽')).toMatchObject({ reaction: '👍🏽' });
    // A selector after an emoji-style code point (as emoji data writes 👍️) is the same reaction without it.
    expect(react('\u{1F44D}\uFE0F')).toMatchObject({ reaction: '\u{1F44D}' });
    expect(react('\u{1F30D}\uFE0F')).toMatchObject({ reaction: '\u{1F30D}' }); // 🌍️
    for (const bad of ['\u2764\u2764', 'ok', '1', '\u2764 ', '\u{1F44D}\uFE0F\uFE0F', 'a\uFE0F'])
      expect(() => react(bad)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it("are limited per member, so one member cannot take all of a message's kinds", () => {
    const emoji = ['👍', '🎉', '😂', '😮', '😢', '🙏', '🔥', '👀'];
    const mallory = emoji.slice(0, CHANGE_LIMITS.reactionKindsPerMember);
    const summary = {
      counts: Object.fromEntries(mallory.map((e) => [e, 1])),
      total: mallory.length,
      lastSeq: 9,
    };
    const react = (reaction: string, given: string[], remove = false) =>
      planChange(message, { kind: 'react', reaction, remove }, as('x'), sentAt, WINDOW_MS, {
        summary,
        given,
      });
    const next = emoji[CHANGE_LIMITS.reactionKindsPerMember] as string;
    expect(() => react(next, mallory)).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        strike: false,
        message: expect.stringMatching(/take one back/),
      }),
    );
    // Anyone else still adds a new kind, and Mallory may take one back.
    expect(react(next, []).kind).toBe('change');
    expect(react('👍', mallory, true).kind).toBe('change');
  });

  it('refuse a new kind past the kinds a message carries, and any past its total', () => {
    const kinds = Array.from({ length: CHANGE_LIMITS.reactionKinds }, (_, i) => `k${i}`);
    const full = { counts: Object.fromEntries(kinds.map((k) => [k, 1])), total: kinds.length, lastSeq: 30 };
    const react = (reaction: string, summary = full) =>
      planChange(message, { kind: 'react', reaction, remove: false }, as('bob'), sentAt, WINDOW_MS, {
        summary,
        given: [],
      });
    expect(() => react('👍')).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/different/) }),
    );
    expect(react('k0').kind).toBe('change');
    const carried = { ...full, total: CHANGE_LIMITS.reactionsPerMessage };
    expect(() => react('k0', carried)).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/carry/) }),
    );
  });
});

describe("the client's message store", () => {
  const listeners: Record<string, (value: never) => void> = {};
  const store = new RoomMessages({
    on: (event: string, listener: (value: never) => void) => (listeners[event] = listener),
  });
  const emit = (event: string, value: unknown) => listeners[event]?.(value as never);
  const frame: MessageFrame = {
    type: 'message',
    roomId: 'R',
    seq: 1,
    messageId: 'a',
    username: 'al',
    text: 'v1',
    sentAt: '',
  };
  const edit = (seq: number, text: string): ChangeFrame => ({
    type: 'edited',
    roomId: 'R',
    seq,
    messageId: `e${seq}`,
    username: 'al',
    sentAt: 't',
    targetSeq: 1,
    text,
  });

  it('applies each change once, and never an older one over a newer state', () => {
    emit('room', { roomId: 'R' });
    emit('message', frame);
    emit('change', edit(3, 'v3'));
    emit('change', edit(2, 'v2'));
    expect(store.get(1)).toMatchObject({ text: 'v3', changeSeq: 3 });
    const reply: ChangedFrame = {
      type: 'changed',
      roomId: 'R',
      seq: 4,
      message: { ...frame, text: '', deleted: 'author', changeSeq: 4 },
    };
    emit('changed', reply);
    emit('message', frame);
    expect(store.get(1)).toMatchObject({ text: '', deleted: 'author' });
  });
});
