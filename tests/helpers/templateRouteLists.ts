import { parseDocument } from 'yaml';
import { cfnTags } from '../../tools/infra/templateYaml';

/**
 * template.yaml's two lists of the routes a function's loop makes: `Mappings.Routes` (`SlowMode: {Key: slowmode}`,
 * the key of each resource name: CloudFormation cannot lower-case) and each function's `Fn::ForEach::<F>Routes`
 * (`Fn::ForEach::RoomsRoutes`: the names of RoomsFunction's routes). Both follow from the routes' declarations
 * (tests/helpers/routeFacts.ts): the name is the request type's (SlowModeRequest), the loop the hosting function's.
 * `routeListGaps` names each line missing or left over; `withRouteLists` writes them (tests/template/routes.test.ts
 * with ROOMCAST_WRITE_ROUTES=1), keeping the lines' order and adding a new route last.
 */

/** A route a function's loop makes: its resource name (SlowMode), its key, and its loop (RoomsRoutes). */
export interface LoopRoute {
  name: string;
  key: string;
  loop: string;
}

interface RawTemplate {
  Mappings?: { Routes?: Record<string, { Key?: string }> };
  Resources: Record<string, unknown>;
}

const LOOP = /^Fn::ForEach::(\w+Routes)$/;

/** The loop of a function's routes: `RoomsRoutes` for RoomsFunction. */
export const loopOf = (functionId: string) => `${functionId.replace(/Function$/, '')}Routes`;

/** The template's text as written, its loops not expanded. */
const asWritten = (text: string) => parseDocument(text, { customTags: cfnTags() }).toJS() as RawTemplate;

/** The names each route loop of the template lists. */
function loops(raw: RawTemplate): Map<string, string[]> {
  return new Map(
    Object.entries(raw.Resources).flatMap(([id, value]) => {
      const loop = LOOP.exec(id)?.[1];
      return loop && Array.isArray(value) ? [[loop, value[1] as string[]] as const] : [];
    }),
  );
}

/** One sentence per line the template's text lacks or keeps for no declared route. */
export function routeListGaps(text: string, wanted: readonly LoopRoute[]): string[] {
  const raw = asWritten(text);
  const mapping = raw.Mappings?.Routes ?? {};
  const lists = loops(raw);
  const gaps: string[] = [];
  for (const { name, key, loop } of wanted) {
    if (mapping[name]?.Key !== key)
      gaps.push(`template.yaml lacks ${key}: \`${name}: {Key: ${key}}\` in Mappings.Routes`);
    const list = lists.get(loop);
    if (!list) gaps.push(`template.yaml lacks ${key}: it has no Fn::ForEach::${loop}`);
    else if (!list.includes(name)) gaps.push(`template.yaml lacks ${key}: ${name} in Fn::ForEach::${loop}`);
  }
  const names = new Set(wanted.map((route) => route.name));
  for (const [name, { Key }] of Object.entries(mapping))
    if (!names.has(name))
      gaps.push(`template.yaml routes ${Key} (Mappings.Routes ${name}), which no route table declares`);
  for (const [loop, list] of lists)
    for (const name of list)
      if (!wanted.some((route) => route.name === name && route.loop === loop))
        gaps.push(
          `template.yaml's Fn::ForEach::${loop} makes ${name}, which its function's route table does not declare`,
        );
  return gaps;
}

/** The template's text with its route lists as `wanted` says: lines kept in their order, a new route added last. */
export function withRouteLists(text: string, wanted: readonly LoopRoute[]): string {
  const lines = text.split('\n');
  const start = lines.indexOf('  Routes:');
  if (start < 0) throw new Error('template.yaml has no Mappings.Routes');
  let end = start + 1;
  const entry = /^ {4}(\w+): \{Key: [^}]+\}$/;
  while (entry.test(lines[end] ?? '')) end++;
  const kept = lines
    .slice(start + 1, end)
    .filter((line) => wanted.some((r) => r.name === entry.exec(line)?.[1]));
  const added = wanted
    .filter((r) => !kept.some((line) => entry.exec(line)?.[1] === r.name))
    .map((r) => `    ${r.name}: {Key: ${r.key}}`);
  lines.splice(start + 1, end - start - 1, ...kept, ...added);
  for (const loop of new Set(wanted.map((r) => r.loop))) {
    const at = lines.indexOf(`  Fn::ForEach::${loop}:`) + 2;
    const list = /^ {4}- \[(.*)\]$/.exec(lines[at] ?? '');
    if (at < 2 || !list) continue;
    const names = wanted.filter((r) => r.loop === loop).map((r) => r.name);
    const current = (list[1] ?? '').split(',').map((name) => name.trim());
    const ordered = [
      ...current.filter((n) => names.includes(n)),
      ...names.filter((n) => !current.includes(n)),
    ];
    lines[at] = `    - [${ordered.join(', ')}]`;
  }
  return lines.join('\n');
}
