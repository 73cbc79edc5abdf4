import { parseExamples } from '../helpers/wscatExamples';

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
