import { join } from 'node:path';
import type { ChatEvent } from '#core/ports';
import { publishStored } from '#messages/appending';
import type { MessageFrame, RoomEventFrame } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';
import { matchesEventPattern } from '../../tools/local/eventPattern';

/**
 * The bus rule that invokes the push function (PushOnMessageRule) matches only a chat message that can push someone:
 * one that names a person (`@`), one in a direct-message room, or a reply in a thread. Every other message and every
 * change costs no rule invocation and no Lambda invocation. The events are the ones the send path publishes
 * (publishStored), as EventBridge hands them to rules, matched by the local cloud's pattern matcher.
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const rule = template.eventRules().find((r) => r.logicalId === 'PushOnMessageRule');
const source = String(
  (template.raw.Mappings as Record<string, Record<string, Record<string, unknown>>>).Names?.Shared
    ?.EventSource,
);

const ROOM = 'R8K2M4Q7';
const DM_ROOM = 'D8K2M4Q7ZX3P';

/** Whether the push rule matches the `MessageSent` event the send path publishes for `frame`. */
async function invokesPush(frame: RoomEventFrame): Promise<boolean> {
  const published: ChatEvent[] = [];
  const events = { publish: async (batch: ChatEvent[]) => void published.push(...(batch as ChatEvent[])) };
  const { roomId, seq } = frame;
  await publishStored({ events } as never, { messageId: 'm1', roomId, seq, frame }, 'told', { retry: true });
  const sent = published.find((e) => e.type === 'MessageSent');
  if (!sent || !rule) throw new Error('no MessageSent published, or no PushOnMessageRule in the template');
  const { type, ...detail } = sent;
  const event = { source, 'detail-type': type, detail: JSON.parse(JSON.stringify(detail)) as unknown };
  return matchesEventPattern(rule.pattern, event);
}

const message = (roomId: string, text: string, extra: Partial<MessageFrame> = {}): MessageFrame => ({
  type: 'message',
  roomId,
  seq: 7,
  messageId: 'm1',
  username: 'bob',
  text,
  sentAt: '2026-11-28T04:00:00.000Z',
  ...extra,
});

it.each([
  ['a mention', true, message(ROOM, 'hey @alice, the deploy is done')],
  ['a direct message', true, message(DM_ROOM, 'lunch?')],
  ['a reply in a thread', true, message(ROOM, 'agreed', { threadOf: 3 })],
  ['a plain message in a room', false, message(ROOM, 'the deploy is done')],
  [
    'a reply (not in a thread) naming nobody',
    false,
    message(ROOM, 'yes', { replyTo: { seq: 3, username: 'alice', text: 'ok?' } as never }),
  ],
])('%s invokes the push function: %s', async (_, expected, frame) => {
  expect(await invokesPush(frame)).toBe(expected);
});

it('an edit that adds an @name invokes no push (a change pushes nobody)', async () => {
  const edit = { type: 'edited', roomId: ROOM, seq: 8, target: 7, text: 'now @alice', username: 'bob' };
  expect(await invokesPush(edit as unknown as RoomEventFrame)).toBe(false);
});
