import { settings } from '#platform/settings';
import { FilteredWords, findWords } from './filter';

/**
 * The word filter on a text that labels something for others (a room's name or topic, a profile's display name or
 * status, a report's reason, a file's name): refused FILTERED naming the field, whatever FilterMode, since a masked
 * label would show "****" in the directory, the member list or a download, and its author is there to reword it
 * (docs/DECISIONS.md, "Folding text before it is compared"). The deployment's list (FilterWords); empty: no cost.
 */
export function refuseListedWords(text: string | undefined, field: string): void {
  const words = settings().FilterWords;
  if (text === undefined || text === '' || words === '') return;
  const { matched } = findWords(text, words);
  if (matched.length > 0)
    throw new FilteredWords(matched, `The ${field} holds a word this chat doesn't allow: reword it.`);
}
