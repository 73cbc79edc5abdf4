import { keyIdOf } from '#core/aws/rooms';
import {
  BadRequest,
  KeyReplaced,
  MessageTooLarge,
  NotAllowed,
  RateLimited,
  RoomNotFound,
  UnknownConnection,
} from '#core/errors';
import {
  admitFrame,
  admitJoin,
  chargeFrames,
  type GuardDeps,
  type GuardStore,
  parseInviteKey,
  servedFrom,
  sourceOf,
  strike,
} from '#core/limits/guard';
import type { Connection, Room } from '#core/ports';
import { SETTINGS, type SettingName } from '#platform/settingsSchema';

/** The guard's rules with an in-memory store: what a guessing source and a mistyping person each get. */

function memoryStore(): GuardStore & { buckets: Map<string, number>; strikes: Map<string, number> } {
  const buckets = new Map<string, number>();
  const strikes = new Map<string, number>();
  const strikeWindows = new Map<string, number>();
  const frames = new Map<string, number>();
  const closing = new Set<string>();
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return {
    buckets,
    strikes,
    // As the store's one conditional write: every frame is counted, in its window.
    countFrame: async (connectionId, window, n = 1) => {
      const key = `${connectionId}#${window}`;
      frames.set(key, (frames.get(key) ?? 0) + n);
      return {
        count: frames.get(key) as number,
        connection: { connectionId, closing: closing.has(connectionId) } as Connection,
      };
    },
    markClosing: async (connectionId) => {
      closing.add(connectionId);
    },
    // As the store's conditional writes: a later window starts the count again.
    strike: async (id, window) => {
      const stored = strikeWindows.get(id);
      if (stored !== undefined && stored > window) return 0;
      strikes.set(id, stored === window ? (strikes.get(id) ?? 0) + 1 : 1);
      strikeWindows.set(id, window);
      return strikes.get(id) as number;
    },
    // As the store's conditional write: a bucket with a guess left gives one, an empty one nothing. A tick before
    // it lets concurrent joins interleave, as they do against DynamoDB.
    takeGuess: async (bucket, nowMs, intervalMs, limit) => {
      await tick();
      const fullAt = Math.max(buckets.get(bucket) ?? 0, nowMs);
      if (fullAt > nowMs + (limit - 1) * intervalMs) return false;
      buckets.set(bucket, fullAt + intervalMs);
      return true;
    },
    giveGuessBack: async (bucket, intervalMs) => {
      await tick();
      const fullAt = buckets.get(bucket);
      if (fullAt !== undefined) buckets.set(bucket, fullAt - intervalMs);
    },
  };
}

const ROOM: Room = {
  roomId: 'K7M2QDHT',
  createdAt: '2026-11-22T00:00:00Z',
  seq: 0,
  inviteKey: 'abcdefghijklmnop',
};
/** A room made when codes had 6 characters. */
const OLD_ROOM: Room = { ...ROOM, roomId: 'K7M2QD', inviteKey: 'ponmlkjihgfedcb_' };
const chat = {
  rooms: {
    get: async (id: string) => [ROOM, OLD_ROOM].find((room) => room.roomId === id),
    banOf: async () => undefined,
  },
};

function guard(limit = 5, closed: string[] = []) {
  let nowMs = Date.parse('2026-11-22T10:00:00Z');
  const store = memoryStore();
  const deps: GuardDeps = {
    store,
    closer: { close: async (id) => void closed.push(id) },
    limits: { joinGuesses: { limit, windowSeconds: 240 * 3600 }, strikes: { limit: 3, windowSeconds: 600 } },
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
    for (const typo of ['K7M2QDHB', 'K7M2ODHT', 'X7M2QDHT'])
      expect(await attempt(deps, typo)).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
  });

  it('answer RATE_LIMITED to the right code too once the source is out of guesses (no oracle)', async () => {
    const { deps } = guard(4);
    for (let i = 0; i < 4; i++) expect(await attempt(deps, `AAAAAAA${i + 2}`)).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, 'BBBBBBBB')).toBe('RATE_LIMITED');
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
  });

  it('look up no more codes than the source has guesses, however many joins arrive at once', async () => {
    const { deps, advance } = guard(4);
    let lookups = 0;
    const counting = {
      rooms: {
        get: async (id: string) => {
          lookups++;
          return chat.rooms.get(id);
        },
        banOf: async () => undefined,
      },
    };
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        admitJoin(counting, deps, {
          roomId: `CCCCCC${String(i).padStart(2, '2')}`,
          sourceIp: '203.0.113.7',
        }).then(
          () => 'joined',
          (e: unknown) => (e instanceof RateLimited ? 'RATE_LIMITED' : 'ROOM_NOT_FOUND'),
        ),
      ),
    );
    expect(lookups).toBe(4);
    expect(answers.filter((a) => a === 'ROOM_NOT_FOUND').length).toBe(4);
    expect(answers.filter((a) => a === 'RATE_LIMITED').length).toBe(36);
    // The four come back at 4 per 240 h: one after 60 h.
    advance(60 * 3600 * 1000 - 1000);
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
    advance(2000);
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
  });

  it('let 30 people on one network in at once with the right code, and give every guess back', async () => {
    const { deps } = guard(50);
    const answers = await Promise.all(Array.from({ length: 30 }, () => attempt(deps, ROOM.roomId)));
    expect(answers).toEqual(Array(30).fill('joined'));
    // All 50 guesses are there again: 50 wrong codes are answered, the 51st is not.
    for (let i = 0; i < 50; i++)
      expect(await attempt(deps, `HHHHHH${String(i).padStart(2, '2')}`)).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, 'HHHHHHHH')).toBe('RATE_LIMITED');
  });

  it('tell a key the room had before a rotation KEY_REPLACED, spending no guess; a key it never had is a failed guess', async () => {
    const { deps } = guard(2);
    const rotated: Room = {
      ...ROOM,
      inviteKey: 'qrstuvwxyzabcdef',
      keyRequired: true,
      formerKeyIds: [keyIdOf(ROOM.inviteKey as string)],
    };
    const rooms = {
      rooms: {
        get: async (id: string) => (id === ROOM.roomId ? rotated : undefined),
        banOf: async () => undefined,
      },
    };
    const join = (key?: string) =>
      admitJoin(rooms, deps, { roomId: ROOM.roomId, key, sourceIp: '203.0.113.7' }).then(
        () => 'joined',
        (e: { code?: string }) => e.code,
      );
    for (let i = 0; i < 10; i++) expect(await join(ROOM.inviteKey)).toBe('KEY_REPLACED');
    expect(await join('qrstuvwxyzabcdef')).toBe('joined');
    expect(await join('ponmlkjihgfedcba')).toBe('ROOM_NOT_FOUND');
    expect(await join('ponmlkjihgfedcbb')).toBe('ROOM_NOT_FOUND');
    expect(await join('ponmlkjihgfedcbc')).toBe('RATE_LIMITED');
    // Not a strike: an honest reconnect after a rotation sends it.
    expect(await strike(deps, 'c1', new KeyReplaced(ROOM.roomId), 'subscribe')).toBe('ignored');
  });

  it('still join an older room by its 6-character code, from a bucket that refills 32² times slower', async () => {
    const { deps, advance } = guard(4);
    expect(await attempt(deps, OLD_ROOM.roomId)).toBe('joined');
    for (let i = 0; i < 4; i++) expect(await attempt(deps, `JJJJJ${i + 2}`)).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, OLD_ROOM.roomId)).toBe('RATE_LIMITED');
    // Short codes have their own bucket: the 8-character ones are untouched.
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
    advance(60 * 3600 * 1000); // one 8-character guess back, but 1/1024 of a 6-character one
    expect(await attempt(deps, OLD_ROOM.roomId)).toBe('RATE_LIMITED');
    advance(1024 * 60 * 3600 * 1000);
    expect(await attempt(deps, OLD_ROOM.roomId)).toBe('joined');
    expect(await attempt(deps, OLD_ROOM.roomId, OLD_ROOM.inviteKey)).toBe('joined');
  });

  it('refill the bucket over the window, and keep sources apart (an IPv6 /64 is one source)', async () => {
    const { deps, advance } = guard(4);
    for (let i = 0; i < 4; i++) await attempt(deps, `DDDDDDD${i + 2}`);
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
    expect(await attempt(deps, ROOM.roomId, undefined, '198.51.100.1')).toBe('joined');
    advance(60 * 3600 * 1000); // a quarter of 240 h: one guess back
    expect(await attempt(deps, ROOM.roomId)).toBe('joined');
    for (let i = 0; i < 4; i++) await attempt(deps, `EEEEEEE${i + 2}`, undefined, '2001:db8:1:2:3:4:5:6');
    expect(await attempt(deps, ROOM.roomId, undefined, '2001:db8:1:2:ffff::9')).toBe('RATE_LIMITED');
  });

  it('let the invite key in even when the source has no guesses left; a wrong key is a failed guess', async () => {
    const { deps } = guard(2);
    expect(await attempt(deps, ROOM.roomId, 'ponmlkjihgfedcba')).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, 'FFFFFFFF')).toBe('ROOM_NOT_FOUND');
    expect(await attempt(deps, ROOM.roomId)).toBe('RATE_LIMITED');
    expect(await attempt(deps, ROOM.roomId, ROOM.inviteKey)).toBe('joined');
  });
});

describe('frames', () => {
  it('admit the limit, close the connection on the first frame over it, and refuse its frames in flight with no strike or close', async () => {
    const closed: { id: string; frame: object }[] = [];
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const deps: GuardDeps = {
      store: memoryStore(),
      closer: { close: async (id, frame) => void closed.push({ id, frame }) },
      limits: { frames: { limit: 3, windowSeconds: 60 }, strikes: { limit: 3, windowSeconds: 600 } },
      now: () => new Date(nowMs),
    };
    const frame = () =>
      admitFrame(deps, 'c1').then(
        () => 'admitted',
        (e: RateLimited) => (e.strike === false ? 'refused, no strike' : 'refused'),
      );
    for (let i = 0; i < 3; i++) expect(await frame()).toBe('admitted');
    expect(closed).toEqual([]);
    expect(await frame()).toBe('refused, no strike');
    expect(closed).toEqual([
      {
        id: 'c1',
        frame: expect.objectContaining({ code: 'RATE_LIMITED', message: expect.stringContaining('closed') }),
      },
    ]);
    // The flood's frames still in flight are refused after their count alone: no strike, no close of their own.
    for (let i = 0; i < 5; i++) expect(await frame()).toBe('refused, no strike');
    expect(closed.length).toBe(1);
  });
});

describe('a frame that costs several', () => {
  it('counts its weight against the budget and closes the connection when the weight crosses the limit', async () => {
    const closed: string[] = [];
    const nowMs = Date.parse('2026-11-22T10:00:00Z');
    const deps: GuardDeps = {
      store: memoryStore(),
      closer: { close: async (id) => void closed.push(id) },
      limits: { frames: { limit: 100, windowSeconds: 60 } },
      now: () => new Date(nowMs),
    };
    // A subscribe of 100 rooms at 10 rooms a frame: its own frame and 9 more, 10 of 100.
    for (let i = 0; i < 10; i++) {
      await admitFrame(deps, 'c1');
      await chargeFrames(deps, 'c1', 10);
    }
    expect(closed).toEqual([]);
    await expect(admitFrame(deps, 'c1')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(closed).toEqual(['c1']);
  });
});

describe('strikes', () => {
  it('count a room of a subscribe refused as a wrong code, as the join it is', async () => {
    const { deps } = guard(4);
    expect(await strike(deps, 'c1', new RoomNotFound('AAAAAAAA'), 'subscribe')).toBe('counted');
  });

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

  it('decay: strikes count per window, so occasional mistakes over hours never close a connection', async () => {
    const closed: string[] = [];
    const { deps, advance } = guard(4, closed);
    // Two mistakes every 10 minutes for 3 hours: 36 strikes in all, never 3 in one window.
    for (let i = 0; i < 18; i++) {
      for (let j = 0; j < 2; j++)
        expect(await strike(deps, 'c1', new BadRequest('"message" is required.'), 'sendmessage')).toBe(
          'counted',
        );
      advance(600_000);
    }
    expect(closed).toEqual([]);
    // Three in one window still close it.
    for (const outcome of ['counted', 'counted', 'closed'])
      expect(await strike(deps, 'c1', new RateLimited(), 'sendmessage')).toBe(outcome);
    expect(closed).toEqual(['c1']);
  });

  it("are not counted for refusals of the deployment's lobby policy", async () => {
    const closed: string[] = [];
    const { deps } = guard(4, closed);
    for (let i = 0; i < 10; i++)
      expect(await strike(deps, 'c1', new NotAllowed('announcements only'), 'sendmessage')).toBe('ignored');
    expect(closed).toEqual([]);
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

describe("the settings' defaults", () => {
  it('leave an honest sender at the full send rate room in the frame budget for its other frames', () => {
    // A deployed stack runs the schema's defaults until an operator changes them (functions/platform/settingsSchema.ts).
    const n = (name: SettingName) => Number(SETTINGS[name].default);
    // Every sendmessage counts against FrameRateLimit: a full bucket, then its refill over one frame window.
    const sendsPerFrameWindow =
      n('SendRateLimit') * (n('FrameRateWindowSeconds') / n('SendRateWindowSeconds') + 1);
    // A join, a history page or two, who: what the web page sends besides messages in a busy minute.
    expect(n('FrameRateLimit') - sendsPerFrameWindow).toBeGreaterThanOrEqual(20);
  });
});

describe("servedFrom: the frame's own connection, as seen in the room the frame acts in", () => {
  const stored: Connection = {
    connectionId: 'me',
    roomId: 'SHOWNAAA',
    username: 'ann',
    connectedAt: '2026-11-25T12:00:00.000Z',
  };
  const storeOf = (item: Connection) => {
    let reads = 0;
    return {
      reads: () => reads,
      connections: {
        get: async (id: string) => {
          reads++;
          return id === item.connectionId ? { ...item, sendBucket: { tokens: 3, at: reads } } : undefined;
        },
      },
    };
  };

  it('answers the first read from the frame count and later reads from the store', async () => {
    const store = storeOf(stored);
    const served = servedFrom(store, { connectionId: 'me', admitted: stored });
    expect(await served.connections.get('me')).toBe(stored);
    expect(store.reads()).toBe(0);
    expect(await served.connections.get('me')).toMatchObject({ roomId: 'SHOWNAAA', sendBucket: { at: 1 } });
  });

  it('shows every read of a frame naming a followed room in that room, under the name shown there', async () => {
    const store = storeOf(stored);
    const room = { roomId: 'FOLLOWED', username: 'ann (2)' };
    const served = servedFrom(store, { connectionId: 'me', admitted: { ...stored, ...room }, room });
    expect(await served.connections.get('me')).toMatchObject(room);
    // A later read (a send bucket's race, rateLimit.ts) is the item as it is now, still seen in that room.
    expect(await served.connections.get('me')).toMatchObject({ ...room, sendBucket: { at: 1 } });
    // Without a frame count (frames not limited) too; other connections are as stored.
    const unlimited = servedFrom(storeOf(stored), { connectionId: 'me', room });
    expect(await unlimited.connections.get('me')).toMatchObject(room);
    expect(
      await servedFrom(storeOf({ ...stored, connectionId: 'you' }), {
        connectionId: 'me',
        room,
      }).connections.get('you'),
    ).toMatchObject({ roomId: 'SHOWNAAA' });
  });
});
