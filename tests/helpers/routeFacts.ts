import { join } from 'node:path';
import ts from 'typescript';
import type { Route, RouteScope } from '#core/features';
import { ONE_WAY_ACTIONS, REPLY_TYPE } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';

/**
 * Every route's facts, read from the one place each is said: its key, scope and budget where its entry is built
 * (`routeHandler`, functions/core/websocket.ts, or `declareRoute`), the Lambda that hosts it by the route table that
 * gathers it (the `routes` of the index.ts a template function is built from), its request and reply types by its
 * key (protocol/index.ts RequestOf, REPLY_TYPE). The checks of every other place that names a route read these:
 * template.yaml's route lists (tests/template/routes.test.ts), AsyncAPI, PROTOCOL.md and CONTRIBUTING's checklists
 * (tests/build/contributing.test.ts).
 */
const ROOT = join(__dirname, '..', '..');

/** The keys the gateway itself names: served by a feature, but no action a client names. */
export const GATEWAY_KEYS: readonly string[] = ['$connect', '$disconnect', '$default'];

export interface RouteFact {
  key: string;
  /** What its frame acts on; absent for the handshake, which reads no frame. */
  scope?: RouteScope;
  /** The seconds it answers within. */
  seconds: number;
  /** The template function hosting it (MessagesFunction), its route table, and its Timeout. */
  functionId: string;
  entry: string;
  timeout: number;
  /** The server frame type answering it (REPLY_TYPE); absent for a one-way action and the gateway's keys. */
  reply?: string;
  /** Whether a client names it in `action` (every key but the gateway's own). */
  action: boolean;
}

const template = loadTemplate(join(ROOT, 'template.yaml'));
const raw = template.raw as {
  Globals: { Function: { Timeout: number } };
  Resources: Record<
    string,
    {
      Type: string;
      Metadata?: { BuildProperties?: { EntryPoints?: string[] } };
      Properties?: { Timeout?: number };
    }
  >;
};

/** Each template function built from an index.ts with a route table, and that table. */
export const ROUTE_TABLES = Object.entries(raw.Resources).flatMap(([functionId, resource]) => {
  const entry = resource.Metadata?.BuildProperties?.EntryPoints?.[0];
  if (resource.Type !== 'AWS::Serverless::Function' || entry === undefined) return [];
  const module = require(join(ROOT, entry)) as { routes?: readonly Route[] };
  if (module.routes === undefined) return [];
  const timeout = resource.Properties?.Timeout ?? raw.Globals.Function.Timeout;
  return [{ functionId, entry, routes: module.routes, timeout }];
});

export const ROUTE_FACTS: readonly RouteFact[] = ROUTE_TABLES.flatMap(
  ({ functionId, entry, timeout, routes }) =>
    routes.map((route) => {
      const key = route.key as string;
      return {
        key,
        ...(route.scope && { scope: route.scope }),
        seconds: route.seconds,
        functionId,
        entry,
        timeout,
        ...(key in REPLY_TYPE && { reply: REPLY_TYPE[key as keyof typeof REPLY_TYPE] }),
        action: !GATEWAY_KEYS.includes(key),
      };
    }),
);

/** The routes a client names (the gateway's keys aside). */
export const ACTION_FACTS = ROUTE_FACTS.filter((fact) => fact.action);

/** Whether a route is answered (a route response): every action but the one-way ones. */
export const isTwoWay = (fact: RouteFact) =>
  fact.action && !(ONE_WAY_ACTIONS as readonly string[]).includes(fact.key);

/**
 * Each action's request type as protocol/ declares it (RequestOf, protocol/index.ts): its name (SlowModeRequest) and
 * its fields, read with TypeScript's checker from a probe module that names each one.
 */
export function requestTypes(keys: readonly string[]): Record<string, { name: string; fields: string[] }> {
  const probe = join(ROOT, 'protocol', 'routesProbe.ts');
  const source = [
    "import type { RequestOf } from './index';",
    ...keys.map((key, i) => `export type Probe${i} = RequestOf<'${key}'>;`),
  ].join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const { readFile, fileExists } = host;
  host.readFile = (file) => (file === probe ? source : readFile(file));
  host.fileExists = (file) => file === probe || fileExists(file);
  const program = ts.createProgram([probe], options, host);
  const checker = program.getTypeChecker();
  const aliases = program.getSourceFile(probe)?.statements.filter(ts.isTypeAliasDeclaration) ?? [];
  return Object.fromEntries(
    aliases.map((alias, i) => {
      const type = checker.getTypeAtLocation(alias.name);
      const fields = checker
        .getPropertiesOfType(type)
        .map((p) => p.name)
        .sort();
      return [keys[i], { name: type.aliasSymbol?.name ?? type.getSymbol()?.name ?? '', fields }];
    }),
  );
}
