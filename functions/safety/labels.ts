import { BadRequest } from '#core/errors';
import { settings } from '#platform/settings';
import { normalizeText, normalizeTitle } from '#protocol';
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

/**
 * A label field of a request (`body[key]`), read once for every route that takes one: undefined when absent; else the
 * text normalized as protocol/ says (a title: 1 to `maxChars` characters on one line; a text: at most `maxChars`, may be
 * empty), refused BAD_REQUEST naming the key when it is not, and refused FILTERED naming the field
 * (refuseListedWords).
 */
export function labelField(
  body: Record<string, unknown>,
  key: string,
  kind: 'title' | 'text',
  maxChars: number,
  field: string,
): string | undefined {
  if (body[key] === undefined) return undefined;
  const value = kind === 'title' ? normalizeTitle(body[key], maxChars) : normalizeText(body[key], maxChars);
  if (value === undefined)
    throw new BadRequest(
      kind === 'title'
        ? `"${key}" must be 1–${maxChars} characters, without control characters.`
        : `"${key}" must be text of at most ${maxChars} characters, without control characters.`,
    );
  refuseListedWords(value, field);
  return value;
}
