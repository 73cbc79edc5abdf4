import { filterText, findWords } from '#safety/filter';

/**
 * The word filter folds a text before it matches (functions/safety/filter.ts, core/confusables.ts): 26 spellings of
 * a listed word, as an attacker writes them to pass a filter that compares code points. Each row says whether the
 * filter catches it; spaced letters and leetspeak are left through by decision (docs/DECISIONS.md, "Folding text
 * before it is compared"): "d a r n" is four words, and "d4rn" folded to "darn" would also mask "h3ll0" in a
 * product name. A caught spelling is masked whole, one asterisk per character a reader saw.
 */

const WORDS = 'darn,heck';

const SPELLINGS: [label: string, text: string, caught: boolean][] = [
  ['as listed', 'darn', true],
  ['upper case', 'DARN', true],
  ['mixed case', 'DaRn', true],
  ['zero-width space', 'd\u200Barn', true],
  ['zero-width joiner', 'da\u200Drn', true],
  ['zero-width non-joiner', 'dar\u200Cn', true],
  ['soft hyphen', 'd\u00ADarn', true],
  ['zero-width no-break space', 'd\uFEFFarn', true],
  ['bidi override inside', 'da\u202Ern\u202C', true],
  ['bidi isolate inside', 'd\u2066ar\u2069n', true],
  ['Cyrillic а', 'd\u0430rn', true],
  ['Greek α', 'd\u03B1rn', true],
  ['Cyrillic е (heck)', 'h\u0435ck', true],
  ['Greek capitals Α and Ν', 'D\u0391R\u039D', true],
  ['fullwidth', '\uFF44\uFF41\uFF52\uFF4E', true],
  ['mathematical bold', '\u{1D41D}\u{1D41A}\u{1D42B}\u{1D427}', true],
  ['mathematical script', '\u{1D4B9}\u{1D4B6}\u{1D4C7}\u{1D4C3}', true],
  ['circled letters', '\u24D3\u24D0\u24E1\u24DD', true],
  ['combining strike-through', 'd\u0336a\u0336r\u0336n\u0336', true],
  ['combining accents', 'da\u0301rn\u0308', true],
  ['Markdown bold split', 'd**ar**n', true],
  ['Markdown escape split', 'd\\_arn', true],
  ['Markdown strike split', 'da~~r~~n', true],
  ['Markdown code split', 'd`ar`n', true],
  ['spaced letters', 'd a r n', false],
  ['leetspeak', 'd4rn', false],
];

it('catches at least 22 of the 26 spellings, each as the table says', () => {
  const caught = SPELLINGS.map(([label, text]) => [
    label,
    findWords(`oh ${text} it`, WORDS).matched.length > 0,
  ]);
  expect(Object.fromEntries(caught)).toEqual(
    Object.fromEntries(SPELLINGS.map(([label, , expected]) => [label, expected])),
  );
  expect(caught.filter(([, hit]) => hit).length).toBeGreaterThanOrEqual(22);
});

it('masks what a reader saw of the word, leaving the words around it as written', () => {
  expect(filterText('oh d**ar**n it', { words: WORDS, mode: 'mask' }).text).toBe('oh **** it');
  expect(filterText('ｄａｒｎ, DAR\u200BN!', { words: WORDS, mode: 'mask' }).text).toBe('****, ****!');
  expect(filterText('𝐝𝐚𝐫𝐧 the 𝐡𝐞𝐜𝐤', { words: WORDS, mode: 'mask' }).text).toBe('**** the ****');
});

it('finds a listed word that Markdown markers join to another, as a plain-text reader sees them apart', () => {
  expect(findWords('darn_it and *heck*stuff', WORDS).matched).toEqual(['darn', 'heck']);
  expect(filterText('darn_it', { words: WORDS, mode: 'mask' }).text).toBe('****_it');
});

it('leaves words that only contain a listed one, or look like it only in ASCII', () => {
  for (const text of ['darnation', 'heckle', 'dam', 'damn', 'd-arn-ed', 'da rn'])
    expect(findWords(text, WORDS)).toEqual({ text, matched: [] });
});

it('matches a listed word given in any of these spellings too', () => {
  expect(findWords('what the heck', 'ｈｅｃｋ').matched).toEqual(['heck']);
  expect(findWords('what the h\u0435ck', 'HECK').matched).toEqual(['heck']);
});

it('refuses in refuse mode, naming the folded word for the audit row', () => {
  expect(() => filterText('d\u0430rn', { words: WORDS, mode: 'refuse' })).toThrow(
    expect.objectContaining({ code: 'FILTERED', matched: ['darn'] }),
  );
});
