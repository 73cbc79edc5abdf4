/**
 * The model's send path (tools/bench/awsModel.ts): a `sendmessage` frame through its route's bucket and the
 * account's requests, the messages function's invoke and its sender's send limits (sendLimits.ts), the seq's take on the room's item (`wake`: which marks the room
 * awake), the clientMsgId's claim, the message's put, PutEvents, and the rule's SendMessage to the queue with
 * EventBridge's retries; a message made visible is handed to the queue and pipe (`visible`).
 */
import { wakes } from '#messages/appending';
import type { Message } from './modelPosting';
import type { ModelState, QueueMessage, Room } from './modelSetup';

/**
 * EventBridge's retry of a refused target call: exponential back-off with jitter (EventBridge user guide, "How
 * EventBridge retries delivering events"); AWS publishes no base, so the model takes a delay drawn in
 * [0, 1 s × 2^attempt).
 */
const EVENT_RETRY_BASE_MS = 1000;

export interface SendPath {
  /** A member's `sendmessage` frame in `room` at `at`. */
  send(room: Room, at: number): void;
  /** A RoomWake alone on the bus (a waker never stored, a hand-off); `then` once PutEvents has answered. */
  publishWake(room: Room, seq: number, kind: 'wake' | 'handOff', then?: () => void): void;
}

export function sendPath(st: ModelState, visible: (m: QueueMessage) => void): SendPath {
  const { run, s, L, draw, random, clock, meters, lambdas, refusals, outcomes, wakeCounts } = st;
  const { design } = run;
  const { routes, apiGateway, putEvents, queueCalls } = meters;

  /**
   * The send's sender (a person of the room's `senders`, each message's drawn at random, so each sends rate ÷ senders
   * a second) and its connection (one of its `connectionsPerSender`, drawn the same way), as bucket keys.
   */
  const senders = run.scenario.senders ?? run.scenario.members;
  const connections = run.scenario.connectionsPerSender ?? 1;
  const senderOf = (room: Room): [string, string] => {
    const person = `${room.id}#${Math.floor(st.senderRandom() * senders)}`;
    return [person, `${person}#${Math.floor(st.senderRandom() * connections)}`];
  };

  const send = (room: Room, at: number) => {
    st.features?.typed(room);
    st.extra?.typed(room);
    if (!routes.take('sendmessage', at)) {
      refusals.routeSends++;
      return;
    }
    if (!apiGateway.take(at)) {
      refusals.apiGatewaySends++;
      return;
    }
    // The messages function: its environment (a cold start's init first), or a throttle the sender sees as an error.
    const invocation = lambdas.invoke('MessagesFunction', at);
    if (!invocation) {
      refusals.lambdaSends++;
      return;
    }
    // The sender's buckets, taken beside its first reads (messages/sending.ts readFirst): a send past its person's or
    // its connection's limit is RATE_LIMITED, its environment held for the token writes alone. The writes (the
    // connection's item, the person's Limits item) are on their tables' and keys' quotas; one throttled answers the
    // send Busy (sending.ts orBusy), for its sender to send again.
    const { refused: limited, writes } = meters.senders.take(...senderOf(room), at);
    const throttled = meters.tokenWrite(writes, invocation.startsAt);
    if (throttled) refusals[throttled === 'table' ? 'dynamodbTable' : 'dynamodbKey']++;
    if (limited) {
      refusals[limited === 'person' ? 'personSends' : 'connectionSends']++;
      invocation.end(invocation.startsAt + L.dynamodbItem.p50);
      return;
    }
    if (throttled) {
      outcomes.busySends++;
      invocation.end(invocation.startsAt + L.dynamodbItem.p50);
      return;
    }
    // Its run is the take, the claim, the store and PutEvents, drawn below; its environment is held for their p50s.
    invocation.end(invocation.startsAt + 3 * L.dynamodbItem.p50 + L.eventBridgePutEvents.p50);
    takeSeq(room, at, invocation.startsAt + draw(L.lambdaInvoke), undefined);
  };

  /**
   * The take: UpdateItem `ADD seq :1` on the room's item, which (`wake`) marks the room awake unless it is. `owed`: an
   * earlier take of the same send woke the room and its wake is still owed (appending.ts Takes).
   */
  const takeSeq = (room: Room, sentAt: number, at: number, owed: number | undefined) => {
    const taken = st.write(st.roomKey(room), at, 1);
    if (taken === undefined) {
      outcomes.busySends++;
      if (owed !== undefined) clock.at(at, () => publishWake(room, owed, 'wake'));
      return;
    }
    clock.at(taken, () => take(room, sentAt, owed));
  };

  const take = (room: Room, sentAt: number, owed: number | undefined) => {
    const now = clock.now;
    const seq = ++room.head;
    let waker = false;
    if (design === 'wake') {
      waker = owed !== undefined || wakes(room.awakeSince, now);
      // `awake = if_not_exists(awake, :at)`: a stale mark is kept as it is, so every take after it wakes the room
      // until an execution renews or clears it.
      room.awakeSince ??= now;
    }
    const message: Message = { seq, sentAt, takenAt: now, posted: 0 };
    room.messages[seq] = message;
    // The clientMsgId's claim (its own key), then the message in the room's partition, only if its seq is free.
    const claimed = now + draw(L.dynamodbItem);
    // The claim is its own item (no hot key), in the sends table: only the table's write units can refuse it.
    if (!meters.tableQuota('SendsTable').take(claimed, 1)) {
      refusals.dynamodbTable++;
      outcomes.busySends++;
      if (waker) clock.at(claimed, () => publishWake(room, seq, 'wake'));
      return;
    }
    const stored = st.write(`messages#${room.id}`, claimed, Math.ceil(s.messageBytes / 1024));
    if (stored === undefined) {
      outcomes.busySends++;
      // A seq taken and never stored: the reader fences it. A waker's wake is published bare (wakeUnstored).
      if (waker) clock.at(claimed, () => publishWake(room, seq, 'wake'));
      return;
    }
    clock.at(stored, () => {
      if (room.fenced.has(seq)) {
        // The reader fenced the seq first: the put fails and the send stores under a new seq.
        takeSeq(room, sentAt, clock.now, waker ? seq : owed);
        return;
      }
      message.storedAt = clock.now;
      if (sentAt >= st.measureFrom) st.counts.sent++;
      publish(room, message, waker);
    });
  };

  /** PutEvents: `queue`, the event to the queue; `wake`, the MessageSent (to no queue) and a waker's RoomWake. */
  const publish = (room: Room, message: Message, waker: boolean) => {
    const now = clock.now;
    if (!putEvents.take(now)) {
      // The message is stored and its event never published; a waker's room stays awake with no execution until a
      // take finds the mark stale.
      refusals.putEvents++;
      return;
    }
    const accepted = now + draw(L.eventBridgePutEvents);
    // The push rule matches only a MessageSent that may push (the features decide which): one invocation of its target
    // each. A run of messages alone sends none that may (its text has no mention).
    st.features?.pushed(accepted);
    if (design === 'wake' && !waker) return;
    if (design === 'wake') {
      wakeCounts.byTakes++;
      st.mark(room, 'wake');
    }
    st.ruleTarget(accepted, () => toQueue({ room: room.id, seq: message.seq }, accepted, 0));
  };

  const publishWake = (room: Room, seq: number, kind: 'wake' | 'handOff', then?: () => void) => {
    const now = clock.now;
    if (!putEvents.take(now)) {
      refusals.putEvents++;
      then?.();
      return;
    }
    if (kind === 'wake') wakeCounts.byTakes++;
    st.mark(room, kind);
    const accepted = now + draw(L.eventBridgePutEvents);
    st.ruleTarget(accepted, () => toQueue({ room: room.id, seq }, accepted, 0));
    if (then) clock.at(accepted, then);
  };

  /** The rule's SendMessage: the queue's calls (default mode) or the group's (high-throughput mode). */
  const toQueue = (m: QueueMessage, publishedAt: number, attempt: number) => {
    const now = clock.now;
    // Default mode: the queue's calls are the quota; high-throughput mode: the group's. The other is counted only.
    const [quota, counted] =
      design === 'queue' ? [queueCalls, meters.groupQuota(m.room)] : [meters.groupQuota(m.room), queueCalls];
    counted.count(now);
    if (quota.take(now)) {
      clock.at(now + draw(L.sqsCall), () => visible(m));
      return;
    }
    refusals.sendMessage++;
    const retryAt = now + random() * EVENT_RETRY_BASE_MS * 2 ** attempt;
    if (attempt >= s.eventRetries || retryAt - publishedAt > s.eventMaxAgeMs) {
      outcomes.deadLettered++;
      return;
    }
    outcomes.eventRetries++;
    clock.at(retryAt, () => toQueue(m, publishedAt, attempt + 1));
  };

  return { send, publishWake };
}
