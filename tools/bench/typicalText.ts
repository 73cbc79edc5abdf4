import { indexWords } from '#protocol';
import { stemsOf } from '#search/stems';

/**
 * A typical chat message of 12 distinct words: 12 index entries without the stop-word list, 7 word entries with it
 * (protocol STOP_WORDS leaves out "are", "we", "on", "for", "the"), and as many stem entries for prefix search
 * (docs/DECISIONS.md, "Search by prefix, sender and room"): 14 entries. Each send adds its number (a lone digit is
 * not indexed).
 */
export const TYPICAL_TEXT = 'are we still on for lunch near the new office friday afternoon';

/**
 * The Words table's entries (one write unit each, every item < 1 KB) for a message of `text`, by the product's own
 * rules: its indexed words (protocol indexWords) and their stems (functions/search/stems.ts).
 */
export function indexEntries(text: string): number {
  const words = indexWords(text);
  return words.length + stemsOf(words).length;
}
