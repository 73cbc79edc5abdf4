import { DynamoRoomMemberCheck } from '#core/aws/roomMemberCheck';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { limitSettings } from '#core/limits/limitSettings';
import { connectionStore, quotaStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { MENTION_SCAN_MEMBERS } from './mentions';

/**
 * What mentions' part in a send reads and posts through (mentionSend.ts), with the template's names: the room's
 * members `@name`s are resolved among, the named connections, and the notices' stores, built on the first notice.
 */
export function mentionSendDeps() {
  const members = connectionStore();
  return {
    connections: members,
    mentionables: (roomId: string, stop?: AbortSignal) =>
      members.membersUpTo(roomId, MENTION_SCAN_MEMBERS, stop),
    notices: onFirstCall(mentionNotices),
  };
}

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
