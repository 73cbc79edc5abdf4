import { orBusy } from '#core/busy';
import { memberKey, senderOf } from '#core/memberKeys';
import type { Connection, ConnectionStore, Member } from '#core/ports';
import { type ChatMessage, LOBBY } from '#core/protocol';
import type { SendNotes } from '#core/sendNotes';
import { NAMED_MEMBERS, THREAD_REPLY } from '#threads/threadSend';
import { type MentionNoticeDeps, mentionedIn, notifyMentioned } from './mentions';

/**
 * Mentions' part in sending (functions/messages/sendHooks.ts; typed there by shape, as mentions import no messages
 * module: the messages function lists this hook in its sendFeatures.ts): a text with `@` reads the room's members
 * beside the send tokens (a mention costs a Query, not a round trip; a refused token stops the scan at its next page),
 * the names it names are stored with the message (`mentions`, `mentionKeys`) and left in the send's notes for a reply's
 * thread to follow (functions/threads/threadSend.ts NAMED_MEMBERS), and once published the signed-in
 * members named, with the followers a reply in a thread tells (functions/threads/threadSend.ts THREAD_REPLY), get
 * their notice (mentions.ts notifyMentioned).
 */

/** What mentions' part reads of a send: the sender's connection, the text stored and the send's notes. */
interface SendSeen {
  connection: Connection;
  text: string;
  notes: SendNotes;
}

interface MentionSendDeps {
  connections: Pick<ConnectionStore, 'get' | 'subscription'>;
  /** The room's members `@name`s are resolved among, read page by page until `stop` is aborted. */
  mentionables: (roomId: string, stop?: AbortSignal) => Promise<Member[]>;
  /** What the notices post through, built on the first notice. */
  notices: () => MentionNoticeDeps;
}

export function mentionSendHook(deps: MentionSendDeps) {
  return {
    name: 'mentions',
    begin() {
      let members: Member[] | undefined;
      let mentioned: Connection[] = [];
      return {
        async read({ connection, text }: SendSeen, stop: AbortSignal) {
          const { roomId } = connection;
          if (text.includes('@') && roomId !== LOBBY) members = await deps.mentionables(roomId, stop);
        },
        async beforeSeq({ connection, text, notes }: SendSeen) {
          if (!members) return undefined;
          const { roomId } = connection;
          const named = mentionedIn(text, members, connection.username);
          if (named.names.length === 0) return undefined;
          mentioned = await namedConnections(deps, roomId, named.members);
          // A reply's named follow its thread (threadSend.ts, written once the reply is stored).
          notes.set(NAMED_MEMBERS, mentioned);
          const mentionKeys = [...new Set(mentioned.map((c) => memberKey(roomId, senderOf(c))))];
          return { mentions: named.names, mentionKeys };
        },
        // Signed-in members the message names hear of it on every device; a reply in a thread tells its followers
        // (and those it names) in the same notices.
        async onPublish(
          message: ChatMessage,
          {
            connection,
            notes,
            roomName,
          }: { connection: Connection; notes: SendNotes; roomName?: string | null },
        ) {
          const thread = notes.get(THREAD_REPLY);
          // The notice names the room by the name the seq take found: no read of the room's item per mention.
          const named = roomName ? { ...message, roomName } : message;
          if (mentioned.length > 0 || (thread && thread.users.length > 0))
            await notifyMentioned(deps.notices(), named, mentioned, senderOf(connection), thread);
        },
      };
    },
  };
}

/** Named connections read at most for one message: a member's several tabs included. */
const NAMED_CONNECTIONS = 25;

/**
 * The named members' connections still in the room, read by id (a connection that left since is dropped): one that
 * shows the room, or follows it without showing it (its subscription, read only for those). Their identities give
 * each named member's key in the room (its unread mention count in `myrooms`) and, signed in, its devices to tell.
 */
async function namedConnections(
  deps: Pick<MentionSendDeps, 'connections'>,
  roomId: string,
  named: readonly Member[],
): Promise<Connection[]> {
  const items = await Promise.all(
    named.slice(0, NAMED_CONNECTIONS).map(async (m) => {
      const c = await orBusy(deps.connections.get(m.connectionId), roomId);
      if (c === undefined || c.roomId === roomId) return c;
      return (await orBusy(deps.connections.subscription(c.connectionId, roomId), roomId)) ? c : undefined;
    }),
  );
  return items.filter((c): c is Connection => c !== undefined);
}
