/**
 * The model's posting (tools/bench/awsModel.ts): a room's frames posted to its members as the fan-out does it, key by
 * key and chunk by chunk (each a Deliver invocation, its resync-notes Query, its reservation in the posting budget and
 * its posts), a refused member's frames reposted once (`wake`: through the bus and the repost machine; `queue`: by
 * the execution itself), then a resync note. Every post is one of the account's requests; every receipt is timed.
 */
import { keyLevelFor } from '#core/aws/roomMembers';
import type { AwsProfile, Latency } from '../local/awsProfile';
import type { ExpressStarts } from './expressStarts';
import type { Lambdas, RetryPolicy } from './lambdaConcurrency';
import type { Design, Outcomes, Refusals } from './modelResult';
import type { ModelSettings } from './modelSettings';
import type { PerSecond } from './quotas';
import type { Histogram } from './simulation';

/** A message as the model follows it, from its send to its posts. */
export interface Message {
  seq: number;
  sentAt: number;
  takenAt: number;
  storedAt?: number;
  /** When the fan-out first read it (an execution's Prepare or ReadRoom). */
  readAt?: number;
  /** Executions that posted it (more than one: a duplicate to every member). */
  posted: number;
}

/** statemachines/fanout.asl.json's Retry of Lambda.TooManyRequestsException on Deliver's tasks. */
const DELIVER_RETRY: RetryPolicy = { attempts: 6, intervalMs: 1000, backoff: 2 };

/** The posts' and receipts' counts of a run. */
export interface PostTally {
  posts: number;
  /** Posts made within the measured sending seconds. */
  postsInWindow: number;
  delivered: number;
  /** From the send to each receipt. */
  latency: Histogram;
}

/** What the posting borrows from its run. */
export interface PostingContext {
  design: Design;
  s: ModelSettings;
  draw: (latency: Latency) => number;
  L: AwsProfile['latency'];
  random: () => number;
  /** A Step Functions state transition's latency, drawn. */
  transition: () => number;
  keysAtOnce: number;
  chunksAtOnce: number;
  apiGateway: PerSecond;
  postBudget: PerSecond;
  putEvents: PerSecond;
  ruleInvocations: PerSecond;
  /** Express executions started (the repost machine's, here). */
  expressStarts: ExpressStarts;
  /**
   * `members` told, or noted, to resync at `at`: each reads the room's history (resyncs.ts: a member that missed
   * frames fetches them). None: not counted.
   */
  resynced?: (at: number, members: number) => void;
  lambdas: Lambdas;
  refusals: Refusals;
  outcomes: Outcomes;
  measureFrom: number;
  sendEnd: number;
  tally: PostTally;
  /**
   * A closed room's chunk (deliver/post.ts moveOutIfClosed): its `members` moved to the lobby from `at`, before the
   * budget and the posts; returns when the last move ends. None: a chunk moves no one.
   */
  moveOut?: (at: number, members: number) => number;
}

export class Posting {
  constructor(private readonly c: PostingContext) {}

  /**
   * Posts `frames` (each the messages it carries) to every member of a room from `start`: per key the index Query,
   * chunks of `chunkSize` members, `chunksAtOnce` at a time, each a Deliver invoke, its resync-notes Query, its
   * budget write and its posts (a member's frames one after the other); a refused member's frames are reposted once.
   * Returns when the room's last key is done.
   */
  postRoom(room: { members: number }, start: number, frames: Message[][]): number {
    const { s, draw, L, transition, keysAtOnce, chunksAtOnce } = this.c;
    let roomEnd = start;
    // The room's keys at its key level, as Prepare reads it with the room's head.
    const keys = Math.min(s.roomKeys, keyLevelFor(room.members));
    const perKey = Math.floor(room.members / keys);
    const extra = room.members % keys;
    const keySlots: number[] = Array(Math.min(keys, keysAtOnce)).fill(start);
    for (let key = 0; key < keys; key++) {
      const members = perKey + (key < extra ? 1 : 0);
      const slot = keySlots.indexOf(Math.min(...keySlots));
      let t = (keySlots[slot] as number) + transition();
      let left = members;
      do {
        t += draw(L.dynamodbQuery) + 3 * transition();
        const onPage = Math.min(left, s.pageSize);
        left -= onPage;
        const chunkSlots: number[] = Array(chunksAtOnce).fill(t);
        let pageEnd = t;
        for (let first = 0; first < onPage; first += s.chunkSize) {
          const c = chunkSlots.indexOf(Math.min(...chunkSlots));
          const done = this.postChunk(
            (chunkSlots[c] as number) + transition(),
            Math.min(s.chunkSize, onPage - first),
            frames,
          );
          chunkSlots[c] = done;
          pageEnd = Math.max(pageEnd, done);
        }
        t = pageEnd + transition();
      } while (left > 0);
      t += transition();
      keySlots[slot] = t;
      roomEnd = Math.max(roomEnd, t);
    }
    return roomEnd;
  }

  /** Each member's frames from `from[i]` on, ≤ postsInFlight at once from `at`: when the last is done, and who was refused. */
  postMembers(at: number, from: number[], frames: Message[][], last: boolean) {
    const { s, draw, L, apiGateway, refusals, outcomes, measureFrom, sendEnd } = this.c;
    const slots: number[] = Array(Math.min(s.postsInFlight, from.length)).fill(at);
    const refused: number[] = [];
    let end = at;
    for (const first of from) {
      const slot = slots.indexOf(Math.min(...slots));
      let t = slots[slot] as number;
      for (let f = first; f < frames.length; f++) {
        if (!apiGateway.take(t)) {
          refusals.apiGatewayPosts++;
          if (last) {
            outcomes.resyncNotes++;
            this.c.resynced?.(t, 1);
          } else refused.push(f);
          break;
        }
        t += draw(L.managementPost);
        this.c.tally.posts++;
        if (t >= measureFrom && t <= sendEnd) this.c.tally.postsInWindow++;
        const frame = frames[f] as Message[];
        for (const m of frame) {
          if (m.sentAt < measureFrom) continue;
          this.c.tally.latency.add(t - m.sentAt);
          this.c.tally.delivered++;
        }
      }
      slots[slot] = t;
      end = Math.max(end, t);
    }
    return { end, refused };
  }

  /** Deliver's invoke for a chunk: the invocation, its resync-notes Query and its budget write. */
  invoked(at: number) {
    const { draw, L } = this.c;
    const call = this.deliver(at);
    return {
      at: call.startsAt + draw(L.lambdaInvoke) + draw(L.dynamodbQuery) + draw(L.dynamodbItem),
      end: call.end,
    };
  }

  /**
   * A Deliver invocation from the state machine: throttled, Step Functions retries it (TooManyRequestsException: 1 s,
   * backoff 2, 6 attempts). Past them the execution would fail and its batch come back after the visibility timeout;
   * the model starts it after the retries instead, counted in `outcomes.invocationsFailed`.
   */
  deliver(at: number) {
    const { outcomes, lambdas } = this.c;
    const call = lambdas.invoke('DeliverFunction', at, DELIVER_RETRY);
    if (call) return call;
    outcomes.invocationsFailed++;
    return { startsAt: at + 63_000, end: () => {} };
  }
  /** Deliver's read of rooms (Prepare, ReadRoom): when its handler starts; held for a read's p50s. */
  deliverRead(at: number) {
    const { draw, L } = this.c;
    const call = this.deliver(at);
    call.end(call.startsAt + L.dynamodbItem.p50 + L.dynamodbQuery.p50);
    return call.startsAt + draw(L.lambdaInvoke);
  }

  postChunk(start: number, members: number, frames: Message[][]): number {
    const { s, draw, L, transition, refusals, outcomes, putEvents, ruleInvocations, design } = this.c;
    const call = this.invoked(start);
    const ready = this.c.moveOut?.(call.at, members) ?? call.at;
    // The chunk's posts reserved in the account's posting budget first; none found in its patience: all reposted.
    const budgeted = this.reserveBudget(ready, members * frames.length);
    const first =
      budgeted === undefined
        ? { end: ready, refused: Array<number>(members).fill(0) }
        : this.postMembers(budgeted, Array(members).fill(0), frames, false);
    call.end(first.end);
    let end = first.end;
    if (first.refused.length > 0) {
      outcomes.reposts++;
      if (design === 'wake') {
        // `repostBy: bus`: Deliver publishes a Repost and returns; the repost machine waits, then posts them once
        // (statemachines/repost.asl.json), the chunk not waiting for it.
        end += draw(L.eventBridgePutEvents);
        if (putEvents.take(end)) {
          // The repost rule's invocation counted (its delay past the quota left out: a repost waits 2 s anyway).
          ruleInvocations.take(end);
          // The rule's StartExecution of the repost machine, retried by the rule when throttled; given up, the
          // Repost is dead-lettered and its members are left to resync.
          const started = this.c.expressStarts.start(
            'repost',
            end + draw(L.eventBridgeToTarget) + transition(),
          );
          if (started === undefined) {
            outcomes.resyncNotes += first.refused.length;
            this.c.resynced?.(end, first.refused.length);
          } else {
            const again = this.invoked(started + s.repostWaitMs + transition());
            again.end(this.repost(again.at, first.refused, frames));
          }
        } else {
          refusals.putEvents++;
          outcomes.resyncNotes += first.refused.length;
          this.c.resynced?.(end, first.refused.length);
        }
      } else {
        // RepostOrPrune → WaitToRepost → RepostChunk: the refused members once more, then a resync note each.
        end += transition();
        const again = this.invoked(end + s.repostWaitMs + transition());
        end = this.repost(again.at, first.refused, frames);
        again.end(end);
      }
    }
    return end + transition() + transition();
  }

  /**
   * Deliver's reservation of `posts` in the account's posting budget (functions/deliver/budget.ts `reserve`): the
   * second `at` falls in, else each next one (spread over its first 100 ms) within the patience; undefined past it.
   */
  reserveBudget(at: number, posts: number): number | undefined {
    const { s, postBudget, random } = this.c;
    const wanted = Math.min(posts, postBudget.limit);
    const until = at + s.budgetPatienceMs;
    let t = at;
    for (;;) {
      if (postBudget.take(t, wanted)) return t;
      const next = (Math.floor(t / 1000) + 1) * 1000 + random() * 100;
      if (next > until) return undefined;
      t = next;
    }
  }

  /** The repost: every refused member's posts reserved at once or none (`reserveNow`), else a resync note each. */
  repost(at: number, refused: number[], frames: Message[][]): number {
    const { outcomes, postBudget } = this.c;
    const posts = refused.reduce((n, f) => n + frames.length - f, 0);
    if (!postBudget.take(at, Math.min(posts, postBudget.limit))) {
      outcomes.resyncNotes += refused.length;
      this.c.resynced?.(at, refused.length);
      return at;
    }
    return this.postMembers(at, refused, frames, true).end;
  }

  /** Cuts a run of messages into frames of at most `frameBytes`. */
  framesOf(messages: Message[]): Message[][] {
    const { s } = this.c;
    const perFrame = Math.max(1, Math.floor(s.frameBytes / s.messageBytes));
    const frames: Message[][] = [];
    for (let i = 0; i < messages.length; i += perFrame) frames.push(messages.slice(i, i + perFrame));
    return frames;
  }
}
