import unhomoglyph from 'unhomoglyph';

/**
 * Text folded for comparison, one code point at a time: the word filter (safety/filter.ts) and public room names
 * (directory/directory.ts) compare what a reader sees, not the code points sent. The confusable mapping is UTS #39's
 * (Unicode's confusables.txt, the `unhomoglyph` package's copy of Unicode 13.0: docs/DECISIONS.md, "Folding text
 * before it is compared"); a confusable added to Unicode since is not mapped.
 *
 * A code point is first NFKC-normalized (fullwidth, mathematical alphanumerics, ligatures, circled letters become
 * their plain letters), then mapped to its prototype, case-insensitively: an upper-case letter by its own prototype
 * when that is ASCII (Greek capital Nu is "N", not the "v" of its small letter), else by its small letter's; every
 * ASCII letter in lower case. Default-ignorable code points (zero-width spaces and joiners, soft hyphens, bidi
 * controls, variation selectors) fold to nothing.
 */

const IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;
const ASCII = /^[\x20-\x7e]*$/;
const MARK = /\p{M}/gu;

const prototype = (text: string): string => unhomoglyph(text.normalize('NFD')).normalize('NFD');

const cache = new Map<string, string>();

/** One code point folded (see above), marks kept as combining marks after it. */
function foldPoint(point: string): string {
  const known = cache.get(point);
  if (known !== undefined) return known;
  let folded = '';
  for (const c of point.normalize('NFKC')) {
    if (IGNORABLE.test(c)) continue;
    const lower = c.toLowerCase();
    // ASCII stays as typed (lower case): its own look-alikes (m/rn, 0/O) are words the filter must tell apart.
    if (ASCII.test(c)) folded += lower;
    else if (lower !== c && ASCII.test(prototype(c)) && prototype(c) !== 'l')
      folded += prototype(c).toLowerCase();
    else folded += prototype(lower).toLowerCase();
  }
  if (cache.size < 10_000) cache.set(point, folded);
  return folded;
}

/** Characters Markdown reads as emphasis, code or escapes: `b**ad**word` and `b\_adword` show "badword". */
const MARKDOWN = /^[*_~`\\|]$/;

/**
 * A text as the word filter matches it: each code point folded (above), combining marks dropped (a word with
 * strokes or accents drawn over it is the word), Markdown's markers dropped (`markers: 'drop'`: "d**ar**n" is
 * "darn") or read as spaces (`'space'`: "darn_it" is "darn it", as a plain-text reader sees two words; the filter
 * matches both readings). `from[i]` is the index (in code points of `text`) of the code point that gave `folded`'s
 * i-th UTF-16 unit, so a match masks the characters that showed it.
 */
export function foldForFilter(
  text: string,
  markers: 'drop' | 'space' = 'drop',
): { folded: string; from: number[]; points: string[] } {
  const points = [...text];
  let folded = '';
  const from: number[] = [];
  points.forEach((point, index) => {
    if (MARKDOWN.test(point) && markers === 'drop') return;
    const piece = MARKDOWN.test(point) ? ' ' : foldPoint(point).replace(MARK, '');
    folded += piece;
    for (let unit = 0; unit < piece.length; unit++) from.push(index);
  });
  return { folded, from, points };
}

/** Whether a code point shows anything once folded for the filter (a masked word masks only those). */
export const showsInFilter = (point: string): boolean =>
  !MARKDOWN.test(point) && foldPoint(point).replace(MARK, '') !== '';

/**
 * A public room's name as the directory compares it: NFKC, white space collapsed, each code point folded (above),
 * then ASCII's own look-alikes too (UTS #39: "m" is "rn", "0" is "o", "1" and "|" are "l"), and "i" as "l": with case
 * ignored, "I" is both "i" and (its prototype) "l". "Paris", "ΡARIS" (Greek Rho), "Pаris" (Cyrillic a) and "Parıs"
 * share a key; so do "PayPal" and "PayPaI". Diacritics stay: "Pâris" is another name.
 */
export function nameSkeleton(name: string): string {
  const spaced = name.normalize('NFKC').replace(/\s+/g, ' ').trim();
  let key = '';
  for (const point of spaced) {
    const folded = foldPoint(point);
    key += ASCII.test(folded) ? prototype(folded).toLowerCase().replace(/i/g, 'l') : folded;
  }
  return key.normalize('NFC');
}
