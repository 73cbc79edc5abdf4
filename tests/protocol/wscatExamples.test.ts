import { matchFrame, parseExamples } from '../helpers/wscatExamples';

/** How a `wscat` fence of docs/PROTOCOL.md says whether its clients connect signed in. */
const block = (fence: string) => `## Heading\n\n${fence}\nalice> {"action":"myrooms"}\n\`\`\`\n`;

it('runs a plain wscat block anonymously and a `wscat signed-in` block signed in', () => {
  expect(parseExamples(block('```wscat'))).toMatchObject([{ line: 3, heading: 'Heading', signedIn: false }]);
  expect(parseExamples(block('```wscat signed-in'))).toMatchObject([{ line: 3, signedIn: true }]);
});

it('refuses an unknown word after wscat rather than running the block anonymously', () => {
  expect(() => parseExamples(block('```wscat signed_in'))).toThrow(
    'PROTOCOL.md line 3: unknown wscat option signed_in',
  );
});

it('leaves fences of other languages alone', () => {
  expect(parseExamples(block('```sh'))).toEqual([]);
});

it('matches a list item by item in any order, each expected item to a different one, and captures through the match', () => {
  const rooms = [
    { roomId: 'ROOM1', unread: 0 },
    { roomId: 'DM1', unread: 1, dm: { username: 'bob' } },
  ];
  const expected = [{ roomId: '$dm', dm: { username: 'bob' } }, { roomId: '$room' }];
  const captured = matchFrame(expected, rooms, new Map());
  expect(Object.fromEntries(captured ?? [])).toEqual({ $dm: 'DM1', $room: 'ROOM1' });
  // The same item cannot stand for two expected ones, nor a list of another length match.
  expect(
    matchFrame([{ dm: { username: 'bob' } }, { dm: { username: 'bob' } }], rooms, new Map()),
  ).toBeUndefined();
  expect(matchFrame([{ roomId: '$room' }], rooms, new Map())).toBeUndefined();
  // A capture made by a first fit that leaves the rest unmatched is taken back: $a is the item ROOM1 does not claim.
  const backtracked = matchFrame([{ roomId: '$a' }, { roomId: 'ROOM1' }], rooms, new Map());
  expect(Object.fromEntries(backtracked ?? [])).toEqual({ $a: 'DM1' });
});
