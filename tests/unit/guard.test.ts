import {
  BadRequest,
  MessageTooLarge,
  RateLimited,
  RoomNotFound,
  UnknownConnection,
} from '../../functions/shared/errors';
import {
  admitJoin,
  type GuardDeps,
  type GuardStore,
  parseInviteKey,
  sourceOf,
  strike,
} from '../../functions/shared/guard';
import type { Room, SendBucket } from '../../functions/shared/ports';
import { loadTemplate } from '../../infra/template';
import { templatePath } from '../helpers/localCloud';

/** The guard's rules with an in-memory store: what a guessing source and a mistyping person each get. */

type Versioned = SendBucket & { version: number };
function memoryStore(): GuardStore & { buckets: Map<string, Versioned>; strikes: Map<string, number> } {
  const buckets = new Map<string, Versioned>();
  const strikes = new Map<string, number>();
  return {
    buckets,
    strikes,
    countFrame: async () => undefined,
    strike: async (id) => {
      strikes.set(id, (strikes.get(id) ?? 0) + 1);
      return strikes.get(id) as number;
    },
    // Conditional on the version read, as DynamoDB's ConditionExpression is; a tick between read and write
    // lets concurrent joins interleave.
    guessBucket: async (source) => {
      const found = buckets.get(source);
      await new Promise((resolve) => setImmediate(resolve));
      return found && { ...found };
    },
    saveGuessBucket: async (source, bucket, previousVersion) => {
      if (buckets.get(source)?.version !== previousVersion) return false;
      buckets.set(source, { ...bucket, version: (previousVersion ?? 0) + 1 });
      return true;
    },
  };
}

const ROOM: Room = {
  roomId: 'K7M2QD',
  createdAt: '2026-11-22T00:00:00Z',
  seq: 0,
  inviteKey: 'abcdefghijklmnop',
};
const chat = {
  rooms: { get: async (id: string) => (id === ROOM.roomId ? ROOM : undefined) },
};

function guard(limit = 5, closed: string[] = []) {
  let nowMs = Date.parse('2026-11-22T10:00:00Z');
  const store = memoryStore();
  const deps: GuardDeps = {
    store,
    closer: { close: async (id) => void closed.push(id) },
    limits: { joinGuesses: { limit, windowSeconds: 240 * 3600 }, strikes: 3 },
    now: () => new Date(nowMs),
  };
  return { deps, store, advance: (ms: number) => (nowMs += ms) };
}

const attempt = (deps: GuardDeps, roomId: string, key?: string, sourceIp = '203.0.113.7') =>
  admitJoin(chat, deps, { roomId, key, sourceIp }).then(
    () => 'joined',
    (e: unknown) =>
      e instanceof RateLimited ? 'RATE_LIMITED' : e instanceof RoomNotFound ? 'ROOM_NOT_FOUND' : e,
  );

describe('joins by code', () => {
  it('let a person who mistypes three times in, and do not spend a guess on the right code', async () => {
    const { deps } = guard(4);
    for (const typo of ['K7M2QB', 'K7M2OD', 'X7M2QD'])
      expect(await attempt(deps, typo)).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
  });

  it('answer RATE_LIMITED to the right code too once the source is out of guesses (no oracle)', async () => {
    const { deps } = guard(4);
    for (let i = 0; i < 4; i++) expect(await attempt(deps, `AAAAA${i + 2}`)).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, 'BBBBBB')).toBe('RATE_LIMITED');
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
  });

  it('count concurrent guesses one by one: a burst gets no more answers than the bucket holds', async () => {
    const { deps } = guard(4);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => attempt(deps, `CCCC${String(i).padStart(2, '2')}`)),
    );
    expect(answers.filter((a) => a === 'ROOM_NOT_FOUND').length).toBeLessThanOrEqual(4);
  });

  it('refill the bucket over the window, and keep sources apart (an IPv6 /64 is one source)', async () => {
    const { deps, advance } = guard(4);
    for (let i = 0; i < 4; i++) await attempt(deps, `DDDDD${i + 2}`);
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
    expect(await attempt(deps, ROOM.roomId, undefined, '198.51.100.1')).toBe('joined');
    advance(60 * 3600 * 1000); // a quarter of 240 h: one guess back
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
    for (let i = 0; i < 4; i++) await attempt(deps, `EEEEE${i + 2}`, undefined, '2001:db8:1:2:3:4:5:6');
    expect(await attempt(deps, ROOM.roomId, undefined, '2001:db8:1:2:ffff::9')).toBe('RATE_LIMITED');
  });

  it('let the invite key in even when the source has no guesses left; a wrong key is a failed guess', async () => {
    const { deps } = guard(2);
    expect(await attempt(deps, ROOM.roomId, 'ponmlkjihgfedcba')).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, 'FFFFFF')).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
    expect(await attempt(deps, ROOM.roomId, ROOM.inviteKey)).toBe('joined');
  });
});

describe('strikes', () => {
  it('close a connection at the strike limit, after telling it why; other errors are no strike', async () => {
    const closed: string[] = [];
    const { deps } = guard(4, closed);
    expect(await strike(deps, 'c1', new RoomNotFound('AAAAAA'), 'history')).toBe('ignored');
    expect(await strike(deps, 'c1', new RoomNotFound('AAAAAA'), 'joinroom')).toBe('counted');
    expect(await strike(deps, 'c1', new RateLimited(), 'who')).toBe('counted');
    expect(closed).toEqual([]);
    expect(await strike(deps, 'c1', new RateLimited(), 'sendmessage')).toBe('closed');
    expect(closed).toEqual(['c1']);
  });

  it('count malformed frames of any route, which a client following the protocol never sends', async () => {
    const closed: string[] = [];
    const { deps, store } = guard(3, closed);
    expect(await strike(deps, 'c1', new BadRequest('"message" is required.'), 'sendmessage')).toBe('counted');
    expect(await strike(deps, 'c1', new MessageTooLarge(4096), 'sendmessage')).toBe('counted');
    expect(await strike(deps, 'c1', new BadRequest('not JSON'), '$default')).toBe('closed');
    expect(closed).toEqual(['c1']);
    // A frame of a connection already gone (in flight when it was closed) writes nothing.
    const before = store.strikes.get('c2');
    expect(await strike(deps, 'c2', new UnknownConnection(), 'sendmessage')).toBe('ignored');
    expect(store.strikes.get('c2')).toBe(before);
  });

  it('close a connection once at the limit, not again for each frame still in flight (only at each further multiple)', async () => {
    const closed: string[] = [];
    const { deps } = guard(4, closed);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) outcomes.push(await strike(deps, 'c1', new RateLimited(), 'sendmessage'));
    expect(outcomes).toEqual([
      'counted',
      'counted',
      'closed',
      'counted',
      'counted',
      'closed',
      'counted',
      'counted',
    ]);
    expect(closed).toEqual(['c1', 'c1']);
  });

  it('never close a client for refusals that are the server state, not its doing (a retry while its send is still going)', async () => {
    const closed: string[] = [];
    const { deps } = guard(4, closed);
    const stillBeingSent = new RateLimited('This message is still being sent.', false);
    for (let i = 0; i < 10; i++)
      expect(await strike(deps, 'c1', stillBeingSent, 'sendmessage')).toBe('ignored');
    expect(closed).toEqual([]);
  });
});

describe('inputs', () => {
  it('group IPv6 sources by /64 and keep IPv4 addresses whole', () => {
    expect(sourceOf('203.0.113.7')).toBe('203.0.113.7');
    expect(sourceOf('2001:db8:1:2:3:4:5:6')).toBe(sourceOf('2001:0db8:0001:0002::9'));
    expect(sourceOf('2001:db8:1:2::1')).not.toBe(sourceOf('2001:db8:1:3::1'));
    expect(sourceOf(undefined)).toBe('unknown');
  });

  it('accept only a 16-character base64url invite key', () => {
    expect(parseInviteKey(undefined)).toBeUndefined();
    expect(parseInviteKey('abcdefghijklmn_-')).toBe('abcdefghijklmn_-');
    for (const bad of ['', 'short', 'a'.repeat(17), 'abcdefghijklmno!', 42])
      expect(() => parseInviteKey(bad)).toThrow('"key" must be');
  });
});

describe("the template's defaults", () => {
  it('leave an honest sender at the full send rate room in the frame budget for its other frames', () => {
    const template = loadTemplate(templatePath);
    const n = (name: string) => Number(template.parameter(name));
    // Every sendmessage counts against FrameRateLimit: a full bucket, then its refill over one frame window.
    const sendsPerFrameWindow =
      n('SendRateLimit') * (n('FrameRateWindowSeconds') / n('SendRateWindowSeconds') + 1);
    // A join, a history page or two, who: what the web page sends besides messages in a busy minute.
    expect(n('FrameRateLimit') - sendsPerFrameWindow).toBeGreaterThanOrEqual(20);
  });
});
