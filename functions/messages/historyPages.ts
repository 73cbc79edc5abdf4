import type { servedFrom } from '#core/limits/guard';
import type { HistoryQuery } from '#core/protocol';
import type { HistoryFrame } from '#protocol';

/**
 * The history route's extension point. A feature whose own pages are read through `history` (a query field of its
 * own picks the page) registers a HistoryPage (historyFeatures.ts lists them); the history route (history.ts) asks
 * each in that list's order and answers the first page one gives, else the room's own page (roomHistory.ts), and
 * names none of them.
 */
export interface HistoryPage {
  /** Its name in logs. */
  readonly name: string;
  /** The page this query asks of the feature, or undefined when the query is not the feature's. */
  answer(query: HistoryQuery, asker: PageAsker): Promise<HistoryFrame> | undefined;
}

/** Who asks: the frame's connection as the route was served it, for the feature's own reads (guard.ts servedFrom). */
type PageAsker = Parameters<typeof servedFrom>[1];

/** The first registered feature's page for this query, or undefined when the query is the room's. */
export function featurePage(
  pages: readonly HistoryPage[],
  query: HistoryQuery,
  asker: PageAsker,
): Promise<HistoryFrame> | undefined {
  for (const page of pages) {
    const answer = page.answer(query, asker);
    if (answer) return answer;
  }
  return undefined;
}
