import unhomoglyph from 'unhomoglyph';
import { LIMITS } from '#protocol';

/**
 * Display names within a room: no two members show the same or a confusable name. Two names are confusable when
 * their UTS #39 skeletons are equal (NFD, each character replaced by its prototype from Unicode's confusables.txt,
 * NFD again; the mapping is the `unhomoglyph` package's copy of confusables.txt of Unicode 13.0, so a confusable
 * added since is not mapped: a known gap), compared both as written and in
 * lower case, so "alice", "аlice" (Cyrillic а), "Alice" and "ａｌｉｃｅ" all clash, and so do "Il" and "ll".
 */

// UTS #39 (since Unicode 15.1) also drops Default_Ignorable code points; parseUsername refuses them, but a name
// stored before that rule may hold one.
const skeleton = (name: string) =>
  unhomoglyph(name.normalize('NFD').replace(/\p{Default_Ignorable_Code_Point}/gu, '')).normalize('NFD');

/** The skeletons a name is compared by: as written, and in lower case. */
function nameKeys(name: string): string[] {
  const keys = [skeleton(name), skeleton(name.toLowerCase())];
  return keys[0] === keys[1] ? [keys[0] as string] : keys;
}

export function confusable(a: string, b: string): boolean {
  const keys = new Set(nameKeys(a));
  return nameKeys(b).some((key) => keys.has(key));
}

/**
 * The name a member shows in a room where `taken` are the names the other members show: the chosen name itself if
 * it is confusable with none of them, else the chosen name with the first free number, "alice (2)", "alice (3)", ...,
 * shortened as needed to stay within the protocol's 32 characters.
 */
export function disambiguate(chosen: string, taken: Iterable<string>): string {
  const keys = new Set<string>();
  for (const name of taken) for (const key of nameKeys(name)) keys.add(key);
  const free = (name: string) => nameKeys(name).every((key) => !keys.has(key));
  if (free(chosen)) return chosen;
  for (let n = 2; ; n++) {
    const suffix = ` (${n})`;
    const numbered = `${[...chosen].slice(0, LIMITS.usernameMaxChars - suffix.length).join('')}${suffix}`;
    if (free(numbered)) return numbered;
  }
}

/** A shown name without the number disambiguate gave it: "alice (2)" -> "alice". */
export function baseName(shown: string): string {
  return shown.replace(/ \(\d+\)$/, '');
}
