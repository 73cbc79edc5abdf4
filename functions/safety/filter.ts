import { foldForFilter, showsInFilter } from '#core/confusables';
import { Filtered } from '#core/errors';
import type { FilterMode } from '#platform/settingsSchema';

/**
 * The word filter, run on every text a member shows others before it is stored: a message or an edit (the
 * deployment's list, setting FilterWords, and the room's own words: roomwords), a room's name and topic, a profile's
 * display name and status, a report's reason, a file's name (labels.ts). A word matches as a whole word of the text
 * folded (core/confusables.ts foldForFilter): NFKC, any case, zero-width and bidi controls removed, look-alike letters
 * of other scripts read as the letters they look like, combining marks and Markdown's markers dropped, so
 * "ｄａｒｎ", "dаrn" (Cyrillic а), "d\u200Barn", "d**ar**n" and "𝐝𝐚𝐫𝐧" are "darn". FilterMode says whether a message
 * with a match is refused (FILTERED, nothing stored) or masked (each character that showed the word stored as one
 * asterisk, what was folded away with it dropped). An empty list filters nothing and costs nothing. Other checks (a
 * Lambda, Amazon Comprehend) plug in here: docs/OPERATIONS.md, "The word filter".
 */

interface Filtering {
  /** The text to store: as given, or with each listed word masked. */
  text: string;
  /** The listed words found (folded, each once): what the audit row names, never the text. */
  matched: string[];
}

/** Lists compiled, by their text: the deployment's and the rooms' a warm function saw last. */
const compiled = new Map<string, RegExp | undefined>();

/** A list (comma-separated, as the setting and a room's words are given) as one pattern over folded text. */
function compile(words: string): RegExp | undefined {
  const list = [
    ...new Set(
      words
        .split(',')
        .map((w) => foldForFilter(w).folded.trim())
        .filter((w) => w !== ''),
    ),
  ];
  // Longest first, so "bad word" masks whole before "bad" would; a space matches any run of white space.
  const alternatives = list
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&').replace(/ +/g, '\\s+'));
  return alternatives.length === 0
    ? undefined
    : new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`, 'gu');
}

/** A list compiled once per value (at most 64 kept: a function serves few rooms' lists at a time). */
function patternOf(words: string): RegExp | undefined {
  if (compiled.has(words)) return compiled.get(words);
  const pattern = compile(words);
  if (compiled.size >= 64) compiled.delete(compiled.keys().next().value as string);
  compiled.set(words, pattern);
  return pattern;
}

/** The listed words `text` holds (folded, each once), and the text with each masked. */
export function findWords(text: string, words: string): Filtering {
  const pattern = patternOf(words);
  if (!pattern || text === '') return { text, matched: [] };
  const matched = new Set<string>();
  const masked = new Set<number>();
  let points: string[] = [];
  // Markdown's markers both dropped ("d**ar**n") and read as spaces ("darn_it"): a word found either way counts.
  for (const markers of ['drop', 'space'] as const) {
    const fold = foldForFilter(text, markers);
    points = fold.points;
    for (const match of fold.folded.matchAll(pattern)) {
      matched.add(match[0].replace(/\s+/g, ' '));
      const first = fold.from[match.index] as number;
      const last = fold.from[match.index + match[0].length - 1] as number;
      for (let i = first; i <= last; i++) masked.add(i);
    }
  }
  if (matched.size === 0) return { text, matched: [] };
  const out = points.map((point, i) => (!masked.has(i) ? point : showsInFilter(point) ? '*' : '')).join('');
  return { text: out, matched: [...matched] };
}

/** The text as the filter leaves it, or FilteredWords when a listed word is found and the mode refuses. */
export function filterText(text: string, setting: { words: string; mode: FilterMode }): Filtering {
  const found = findWords(text, setting.words);
  if (found.matched.length > 0 && setting.mode === 'refuse') throw new FilteredWords(found.matched);
  return found;
}

/** FILTERED, carrying the words found for the audit row (the client hears only the sentence). */
export class FilteredWords extends Filtered {
  constructor(
    readonly matched: string[],
    message?: string,
  ) {
    super(message);
  }
}
