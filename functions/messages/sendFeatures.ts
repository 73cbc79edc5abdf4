import { DynamoRoomMemberCheck } from '#core/aws/roomMemberCheck';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { limitSettings } from '#core/limits/limitSettings';
import { connectionStore, quotaStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config, requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { moderationRecords } from '#safety/auditWiring';
import { filterSendHook } from '#safety/screening';
import { threadSendHook } from '#threads/threadSend';
import { threadStore } from '#threads/wiring';
import { mentionSendHook } from './mentionSend';
import { MENTION_SCAN_MEMBERS } from './mentions';
import type { SendHook } from './sendHooks';

/**
 * The features that take part in sending a message (sendHooks.ts), in the order each phase runs them, built with the
 * template's names on the first send. Threads read their frame fields before the filter screens the text (a bad
 * `threadOf` is refused before the filter's audit row); the notices of mentions read what the thread left.
 */
export const sendHooks = onFirstCall((): readonly SendHook[] => {
  const members = connectionStore();
  return [
    threadSendHook(threadStore()),
    filterSendHook(
      () => ({ words: settings().FilterWords, mode: settings().FilterMode }),
      onFirstCall(moderationRecords),
      systemClock,
    ),
    mentionSendHook({
      connections: members,
      mentionables: (roomId, stop) => members.membersUpTo(roomId, MENTION_SCAN_MEMBERS, stop),
      notices: onFirstCall(mentionNotices),
    }),
  ];
});

/** What mentions' notices post through (mentions.ts notifyMentioned). */
function mentionNotices() {
  const limits = quotaStore();
  return {
    devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
    members: new DynamoRoomMemberCheck(documentClient(), requireEnv('MEMBERSHIPS_TABLE')),
    notifier: notifier(),
    // One notice per sender, person and room per MentionNoticeSeconds (runtime setting, read on every call).
    turns: {
      take: (roomId: string, sender: string, person: string) => {
        const seconds = limitSettings.mentionNoticeSeconds();
        return seconds <= 0
          ? Promise.resolve(true)
          : limits.takeTurn(`mention#${roomId}#${sender}#${person}`, Date.now(), seconds * 1000);
      },
    },
  };
}
