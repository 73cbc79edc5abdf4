import { assertEventPattern, matchesEventPattern as m } from '../../tools/local/eventPattern';

const event = {
  version: '0',
  id: 'e1',
  'detail-type': 'MessageSent',
  source: 'roomcast.chat',
  account: '000000000000',
  time: '2024-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:x:one', 'arn:aws:x:two'],
  detail: {
    roomId: 'ABC123',
    username: 'Alice',
    seq: 5,
    size: 2.5,
    urgent: false,
    note: null,
    tags: ['red', 'blue'],
    ip: '10.0.1.7',
    nested: { deep: { value: 'x' } },
  },
};

describe('matchesEventPattern', () => {
  it('matches exact values listed in arrays', () => {
    expect(m({ source: ['roomcast.chat'] }, event)).toBe(true);
    expect(m({ source: ['other', 'roomcast.chat'], 'detail-type': ['MessageSent', 'Presence'] }, event)).toBe(
      true,
    );
    expect(m({ source: ['other'] }, event)).toBe(false);
    expect(m({ source: ['roomcast.chat'], 'detail-type': ['Presence'] }, event)).toBe(false);
    expect(m({}, event)).toBe(true);
  });

  it('compares numbers, booleans and null by value and type', () => {
    expect(m({ detail: { seq: [5] } }, event)).toBe(true);
    expect(m({ detail: { seq: ['5'] } }, event)).toBe(false);
    expect(m({ detail: { size: [2.5] } }, event)).toBe(true);
    expect(m({ detail: { urgent: [false] } }, event)).toBe(true);
    expect(m({ detail: { urgent: ['false'] } }, event)).toBe(false);
    expect(m({ detail: { note: [null] } }, event)).toBe(true);
    expect(m({ detail: { missing: [null] } }, event)).toBe(false);
  });

  it('matches nested objects and requires every key', () => {
    expect(m({ detail: { nested: { deep: { value: ['x'] } } } }, event)).toBe(true);
    expect(m({ detail: { nested: { deep: { value: ['y'] } } } }, event)).toBe(false);
    expect(m({ detail: { roomId: ['ABC123'], username: ['Bob'] } }, event)).toBe(false);
    // A leaf matcher never matches an object, an object pattern never matches a scalar.
    expect(m({ detail: { nested: ['x'] } }, event)).toBe(false);
    expect(m({ detail: { roomId: { deep: ['x'] } } }, event)).toBe(false);
  });

  it('matches an event array if any element matches', () => {
    expect(m({ detail: { tags: ['blue'] } }, event)).toBe(true);
    expect(m({ detail: { tags: ['green'] } }, event)).toBe(false);
    expect(m({ resources: [{ suffix: ':two' }] }, event)).toBe(true);
  });

  it('supports prefix and suffix, also ignoring case', () => {
    expect(m({ source: [{ prefix: 'roomcast.' }] }, event)).toBe(true);
    expect(m({ source: [{ prefix: 'aws.' }] }, event)).toBe(false);
    expect(m({ detail: { username: [{ suffix: 'ice' }] } }, event)).toBe(true);
    expect(m({ detail: { username: [{ suffix: 'ICE' }] } }, event)).toBe(false);
    expect(m({ detail: { username: [{ prefix: { 'equals-ignore-case': 'ali' } }] } }, event)).toBe(true);
    expect(m({ detail: { username: [{ suffix: { 'equals-ignore-case': 'ICE' } }] } }, event)).toBe(true);
    expect(m({ detail: { seq: [{ prefix: '5' }] } }, event)).toBe(false);
  });

  it('supports anything-but with a value, a list, prefix and suffix', () => {
    expect(m({ source: [{ 'anything-but': 'aws.ec2' }] }, event)).toBe(true);
    expect(m({ source: [{ 'anything-but': 'roomcast.chat' }] }, event)).toBe(false);
    expect(m({ 'detail-type': [{ 'anything-but': ['Presence', 'Broadcast'] }] }, event)).toBe(true);
    expect(m({ 'detail-type': [{ 'anything-but': ['MessageSent', 'Broadcast'] }] }, event)).toBe(false);
    expect(m({ detail: { seq: [{ 'anything-but': [1, 2] }] } }, event)).toBe(true);
    expect(m({ detail: { seq: [{ 'anything-but': 5 }] } }, event)).toBe(false);
    expect(m({ source: [{ 'anything-but': { prefix: 'roomcast.' } }] }, event)).toBe(false);
    expect(m({ source: [{ 'anything-but': { prefix: 'aws.' } }] }, event)).toBe(true);
    expect(m({ source: [{ 'anything-but': { suffix: '.chat' } }] }, event)).toBe(false);
    expect(
      m({ detail: { username: [{ 'anything-but': { 'equals-ignore-case': ['ALICE', 'bob'] } }] } }, event),
    ).toBe(false);
    // anything-but needs the field to be present.
    expect(m({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
  });

  it('supports exists', () => {
    expect(m({ detail: { roomId: [{ exists: true }] } }, event)).toBe(true);
    expect(m({ detail: { missing: [{ exists: true }] } }, event)).toBe(false);
    expect(m({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(m({ detail: { roomId: [{ exists: false }] } }, event)).toBe(false);
    expect(m({ detail: { note: [{ exists: true }] } }, event)).toBe(true);
    expect(m({ nothere: { deeper: [{ exists: false }] } }, event)).toBe(true);
  });

  it('supports numeric ranges', () => {
    expect(m({ detail: { seq: [{ numeric: ['>', 0, '<=', 5] }] } }, event)).toBe(true);
    expect(m({ detail: { seq: [{ numeric: ['>', 0, '<', 5] }] } }, event)).toBe(false);
    expect(m({ detail: { seq: [{ numeric: ['=', 5] }] } }, event)).toBe(true);
    expect(m({ detail: { size: [{ numeric: ['>=', 2.5] }] } }, event)).toBe(true);
    expect(m({ detail: { roomId: [{ numeric: ['>', 0] }] } }, event)).toBe(false);
  });

  it('supports equals-ignore-case and wildcard', () => {
    expect(m({ detail: { username: [{ 'equals-ignore-case': 'ALICE' }] } }, event)).toBe(true);
    expect(m({ detail: { username: [{ 'equals-ignore-case': 'bob' }] } }, event)).toBe(false);
    expect(m({ resources: [{ wildcard: 'arn:aws:x:*' }] }, event)).toBe(true);
    expect(m({ source: [{ wildcard: '*.chat' }] }, event)).toBe(true);
    expect(m({ source: [{ wildcard: 'room*.c?at' }] }, event)).toBe(false);
    expect(m({ source: [{ wildcard: 'roomcast' }] }, event)).toBe(false);
  });

  it('supports cidr', () => {
    expect(m({ detail: { ip: [{ cidr: '10.0.0.0/16' }] } }, event)).toBe(true);
    expect(m({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, event)).toBe(false);
  });

  it('supports $or at the top and nested', () => {
    expect(m({ $or: [{ source: ['aws.ec2'] }, { 'detail-type': ['MessageSent'] }] }, event)).toBe(true);
    expect(m({ $or: [{ source: ['aws.ec2'] }, { 'detail-type': ['Presence'] }] }, event)).toBe(false);
    expect(
      m({ source: ['roomcast.chat'], detail: { $or: [{ seq: [1] }, { username: ['Alice'] }] } }, event),
    ).toBe(true);
    expect(m({ detail: { $or: [{ seq: [1] }, { username: ['Bob'] }] } }, event)).toBe(false);
  });

  it('rejects malformed patterns', () => {
    expect(() => m({ source: 'roomcast.chat' }, event)).toThrow(/source: a leaf must be a list/);
    expect(() => m({ detail: { seq: [{ numeric: ['~', 1] }] } }, event)).toThrow(/unknown numeric operator/);
    expect(() => m({ source: [{ regex: 'x' }] }, event)).toThrow(/unknown matcher regex/);
    expect(() => m('nope', event)).toThrow(/expected an object/);
    expect(() => assertEventPattern({ detail: { seq: [{ numeric: ['>', 'a'] }] } })).toThrow(/numeric bound/);
    expect(() => assertEventPattern({ $or: [{ a: ['x'] }] })).toThrow(/\$or needs 2\+ patterns/);
    expect(() =>
      assertEventPattern({ source: ['roomcast.chat'], detail: { x: [{ exists: true }] } }),
    ).not.toThrow();
  });
});
