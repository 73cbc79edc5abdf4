import { Filtered } from '#core/errors';
import type { FilterMode } from '#platform/settingsSchema';

/**
 * The word filter, run on a message's text before it is stored (sendmessage, editmessage): the deployment's word list
 * (setting FilterWords) matched as whole words in any case; FilterMode says whether a match is refused (FILTERED,
 * nothing stored) or masked (each listed word stored as asterisks, one per character). An empty list filters nothing
 * and costs nothing. Other checks (a Lambda, Amazon Comprehend) plug in here: docs/OPERATIONS.md, "The word filter".
 */

interface Filtering {
  /** The text to store: as given, or with each listed word masked. */
  text: string;
  /** The listed words found (lower case, each once): what the audit row names, never the text. */
  matched: string[];
}

let compiled: { words: string; pattern: RegExp | undefined } | undefined;

/** The list as one pattern, compiled once per value of the setting. */
function patternOf(words: string): RegExp | undefined {
  if (compiled?.words === words) return compiled.pattern;
  const list = [
    ...new Set(
      words
        .split(',')
        .map((w) => w.trim().toLowerCase())
        .filter((w) => w !== ''),
    ),
  ];
  // Longest first, so "bad word" masks whole before "bad" would. A word is letters, digits, spaces, ' and - (the
  // setting's pattern): only "-" needs escaping, and a space matches any run of white space.
  const alternatives = list
    .sort((a, b) => b.length - a.length)
    .map((w) => w.replace(/-/g, '\\-').replace(/ +/g, '\\s+'));
  const pattern =
    alternatives.length === 0
      ? undefined
      : new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  compiled = { words, pattern };
  return pattern;
}

/** The text as the filter leaves it, or Filtered when a listed word is found and the mode refuses. */
export function filterText(text: string, setting: { words: string; mode: FilterMode }): Filtering {
  const pattern = patternOf(setting.words);
  if (!pattern) return { text, matched: [] };
  const matched = new Set<string>();
  const masked = text.normalize('NFC').replace(pattern, (word) => {
    matched.add(word.toLowerCase().replace(/\s+/g, ' '));
    return '*'.repeat([...word].length);
  });
  if (matched.size === 0) return { text, matched: [] };
  if (setting.mode === 'refuse') throw new FilteredWords([...matched]);
  return { text: masked, matched: [...matched] };
}

/** FILTERED, carrying the words found for the audit row (the client hears only the sentence). */
export class FilteredWords extends Filtered {
  constructor(readonly matched: string[]) {
    super();
  }
}
