// Identity-policy decisions for the local cloud's principals, evaluated by @cloud-copilot/iam-simulate and cached
// per (principal, action, resource) so that a fan-out's thousand posts cost one evaluation, not a thousand; the
// request's condition keys are part of the question only where a statement that may apply has a Condition.
import { runSimulation } from '@cloud-copilot/iam-simulate';

export interface PolicyDocument {
  Version?: string;
  Statement: unknown;
}

export interface PolicyHolder {
  /** Template logical id of the function or state machine. */
  logicalId: string;
  /** The assumed-role session ARN AWS names in an AccessDenied message. */
  arn: string;
  policies: { name: string; document: PolicyDocument }[];
}

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

/** Bounds the exact-resource entries (only principals whose policies name single connection ids make them). */
const MAX_CACHED = 20_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** Every Resource and NotResource pattern of the holder's statements. */
function resourcePatterns(holder: PolicyHolder): string[] {
  const patterns: string[] = [];
  for (const { document } of holder.policies) {
    for (const statement of asList(document.Statement)) {
      if (!isObj(statement)) continue;
      for (const key of ['Resource', 'NotResource']) {
        for (const pattern of asList(statement[key])) if (typeof pattern === 'string') patterns.push(pattern);
      }
    }
  }
  return patterns;
}

/** An IAM resource pattern as a RegExp: `*` any run, `?` one character, a policy variable `${…}` anything. */
function patternRegExp(pattern: string): RegExp {
  const parts = pattern.split(/(\$\{[^}]*\}|\*|\?)/);
  const source = parts
    .map((part) =>
      part === '*' || part.startsWith('${')
        ? '.*'
        : part === '?'
          ? '.'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 's');
}

/**
 * Whether a statement with a Condition may apply to `resource`: its Resource patterns match it, or it has none to
 * go by (NotResource, or no Resource). Only then can the request's condition keys change the decision.
 */
function conditionedFor(holder: PolicyHolder, resource: string): boolean {
  for (const { document } of holder.policies) {
    for (const statement of asList(document.Statement)) {
      if (!isObj(statement) || !isObj(statement.Condition) || Object.keys(statement.Condition).length === 0)
        continue;
      const patterns = asList(statement.Resource);
      if (statement.NotResource !== undefined || patterns.length === 0) return true;
      if (patterns.some((p) => typeof p !== 'string' || patternRegExp(p).test(resource))) return true;
    }
  }
  return false;
}

/**
 * Whether some pattern could tell `prefix + a` from `prefix + b` for two ids a and b: a literal ARN or a prefix
 * (`...*`) that reaches past `prefix`, or any other wildcard or policy variable that can reach it at all. A
 * pattern that cannot match anything starting with `prefix`, or that ends with `*` at or before its end, cannot.
 */
function distinguishesTail(pattern: string, prefix: string): boolean {
  if (pattern === '*') return false;
  const wild = pattern.search(/[*?$]/);
  const literal = wild === -1 ? pattern : pattern.slice(0, wild);
  const compatible = literal.startsWith(prefix) || prefix.startsWith(literal);
  if (!compatible) return false;
  if (wild === -1) return pattern.length > prefix.length;
  if (wild === pattern.length - 1 && pattern.endsWith('*')) return literal.length > prefix.length;
  return true;
}

export class PolicyEngine {
  private readonly decisions = new Map<string, Promise<Decision>>();
  private readonly tailFree = new Map<string, boolean>();
  private readonly patterns = new Map<string, string[]>();
  /** Per principal and resource: whether a statement with a Condition may apply (conditionedFor). */
  private readonly conditioned = new Map<string, boolean>();
  private evaluations = 0;
  private lookups = 0;

  constructor(
    private readonly accountId: string,
    private readonly warn: (line: string) => void,
  ) {}

  /**
   * The identity-policy decision for `action` on `resource`. When the resource ends in a per-request id (a
   * connection id from `variableFrom` on), the decision is shared by every id the holder's patterns cannot tell
   * apart, so the cache stays one entry per route instead of one per connection.
   */
  decide(
    holder: PolicyHolder,
    action: string,
    resource: string,
    variableFrom?: number,
    context?: Record<string, string | string[]>,
  ): Promise<Decision> {
    this.lookups++;
    // Condition keys are part of the question where a Condition may read them: a budget counter's key and a guard's
    // bucket in one table differ. Elsewhere every item's key gets the same answer, so it is asked once per table.
    const asked =
      context && Object.keys(context).length > 0 && this.conditionedFor(holder, resource)
        ? `\n${JSON.stringify(context)}`
        : '';
    let key = `${holder.logicalId}\n${action}\n${resource}${asked}`;
    if (variableFrom !== undefined && variableFrom < resource.length) {
      const prefix = resource.slice(0, variableFrom);
      const tailKey = `${holder.logicalId}\n${prefix}`;
      let free = this.tailFree.get(tailKey);
      if (free === undefined) {
        free = !this.patternsOf(holder).some((p) => distinguishesTail(p, prefix));
        this.tailFree.set(tailKey, free);
      }
      if (free) key = `${holder.logicalId}\n${action}\n${prefix}\u0000${asked}`;
    }
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const decision = this.evaluate(holder, action, resource, context ?? {});
    if (this.decisions.size >= MAX_CACHED) {
      const oldest = this.decisions.keys().next().value;
      if (oldest !== undefined) this.decisions.delete(oldest);
    }
    this.decisions.set(key, decision);
    return decision;
  }

  stats(): { lookups: number; evaluations: number } {
    return { lookups: this.lookups, evaluations: this.evaluations };
  }

  private conditionedFor(holder: PolicyHolder, resource: string): boolean {
    const key = `${holder.logicalId}\n${resource}`;
    let found = this.conditioned.get(key);
    if (found === undefined) {
      found = conditionedFor(holder, resource);
      // Resources asked with condition keys are tables and indexes, a few per principal; bounded all the same.
      if (this.conditioned.size >= MAX_CACHED) this.conditioned.clear();
      this.conditioned.set(key, found);
    }
    return found;
  }

  private patternsOf(holder: PolicyHolder): string[] {
    let found = this.patterns.get(holder.logicalId);
    if (!found) {
      found = resourcePatterns(holder);
      this.patterns.set(holder.logicalId, found);
    }
    return found;
  }

  private async evaluate(
    holder: PolicyHolder,
    action: string,
    resource: string,
    context: Record<string, string | string[]>,
  ): Promise<Decision> {
    this.evaluations++;
    const result = await runSimulation(
      {
        identityPolicies: holder.policies.map(({ name, document }) => ({ name, policy: document })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action,
          principal: holder.arn,
          resource: { accountId: this.accountId, resource },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error') {
      // A policy or request the simulator cannot read grants nothing; say why once per decision.
      this.warn(
        `iam: cannot evaluate ${action} on ${resource} for ${holder.logicalId}: ${JSON.stringify(result.errors)}`,
      );
      return 'ImplicitlyDenied';
    }
    const overall = result.overallResult;
    return overall === 'Allowed' || overall === 'ExplicitlyDenied' ? overall : 'ImplicitlyDenied';
  }
}
