// IAM for the local cloud: each function's sandbox and each state machine get their own access key (named after
// their logical id, with a secret drawn at start), every call to a local service is SigV4-verified, and the
// caller's template statements must allow the action on the resource, as on AWS. Tools outside the template use the
// local admin key (LOCAL_ADMIN), which may do anything: it stands for the developer's own AWS credentials.
import { randomBytes } from 'node:crypto';
import type { LocalTemplate } from '../../infra/template';
import type { ConditionContext } from '../http';
import { type Credentials, LOCAL_ADMIN } from './admin';
import { PolicyEngine } from './policies';
import { type TemplatePrincipal, templatePrincipals } from './principals';
import { type SignedRequest, SigV4Verifier } from './sigv4';

export type { Credentials } from './admin';
export { LOCAL_ADMIN } from './admin';
export type { SignedRequest } from './sigv4';

/** A refused call: the AWS error name and message; each service writes it in its own protocol. */
export interface IamRefusal {
  code:
    | 'AccessDeniedException'
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'UnrecognizedClientException'
    | 'InvalidSignatureException';
  message: string;
}

export interface RequestCheck {
  /** The signing name of the service: dynamodb, events, ssm, execute-api. */
  service: string;
  /** IAM action, e.g. dynamodb:PutItem; undefined when the request names no operation the service knows. */
  action?: string;
  /** Every resource ARN the request touches; all must be allowed. */
  resources: string[];
  /** Resources end in a per-request id from this offset (a connection id): see PolicyEngine.decide. */
  variableFrom?: number;
  /** Condition keys the request sets (dynamodb:LeadingKeys), evaluated against the statements' Conditions. */
  context?: ConditionContext;
}

export interface LocalIam {
  /** Credentials of a function's sandbox or a state machine's SDK calls. */
  credentials(logicalId: string): Credentials;
  /** Verifies the signature of one request to a local service, then its caller's policies for the action. */
  checkRequest(req: SignedRequest, body: Uint8Array, check: RequestCheck): Promise<IamRefusal | undefined>;
  /** A call made inside the local cloud on behalf of a template principal (Step Functions invoking Lambda). */
  checkCall(logicalId: string, action: string, resource: string): Promise<IamRefusal | undefined>;
  /** Policy lookups and how many of them needed an evaluation (the rest were cached). */
  stats(): { lookups: number; evaluations: number };
  /** The secret of each template principal, by logical id (for LocalIamOptions.secrets of another thread). */
  secrets(): Record<string, string>;
}

interface Principal extends Credentials {
  holder?: TemplatePrincipal;
}

export function deniedMessage(arn: string, action: string, resource: string, explicit: boolean): string {
  return explicit
    ? `User: ${arn} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in an identity-based policy`
    : `User: ${arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}

export interface LocalIamOptions {
  /**
   * The secret of each template principal, by logical id: another thread's IAM for the same cloud (the DynamoDB
   * thread) must accept the keys this one handed out. Random when absent.
   */
  secrets?: Record<string, string>;
}

export function createLocalIam(
  template: LocalTemplate,
  log: (line: string) => void,
  options: LocalIamOptions = {},
): LocalIam {
  const engine = new PolicyEngine(template.accountId, log);
  const byKey = new Map<string, Principal>([[LOCAL_ADMIN.accessKeyId, { ...LOCAL_ADMIN }]]);
  const byLogicalId = new Map<string, Principal>();
  for (const holder of templatePrincipals(template)) {
    const principal: Principal = {
      accessKeyId: `local-${holder.logicalId}`,
      secretAccessKey: options.secrets?.[holder.logicalId] ?? randomBytes(30).toString('base64'),
      holder,
    };
    byKey.set(principal.accessKeyId, principal);
    byLogicalId.set(holder.logicalId, principal);
    for (const what of holder.ignored) log(`iam: ${what} is not expanded locally and grants nothing here`);
  }
  const verifiers = new Map<string, SigV4Verifier>();
  const verifier = (service: string) => {
    let found = verifiers.get(service);
    if (!found) {
      found = new SigV4Verifier(template.region, service, (key) => byKey.get(key)?.secretAccessKey);
      verifiers.set(service, found);
    }
    return found;
  };

  const authorize = async (
    holder: TemplatePrincipal,
    action: string,
    resources: string[],
    variableFrom?: number,
    context?: ConditionContext,
  ): Promise<IamRefusal | undefined> => {
    for (const resource of resources) {
      const decision = await engine.decide(holder, action, resource, variableFrom, context);
      if (decision === 'Allowed') continue;
      const message = deniedMessage(holder.arn, action, resource, decision === 'ExplicitlyDenied');
      log(`iam: AccessDenied for ${holder.logicalId}: ${action} on ${resource}`);
      return { code: 'AccessDeniedException', message };
    }
    return undefined;
  };

  return {
    credentials: (logicalId) => {
      const principal = byLogicalId.get(logicalId);
      if (!principal) throw new Error(`iam: ${logicalId} is not a function or state machine of the template`);
      return { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey };
    },
    checkRequest: async (req, body, check) => {
      const verified = await verifier(check.service).verify(req, body);
      if ('failure' in verified) {
        log(`iam: ${check.service} request refused: ${verified.failure.code}`);
        return verified.failure;
      }
      const holder = byKey.get(verified.accessKeyId)?.holder;
      // The admin may do anything; a request naming no known operation is the service's to refuse.
      if (!holder || check.action === undefined) return undefined;
      return authorize(holder, check.action, check.resources, check.variableFrom, check.context);
    },
    checkCall: async (logicalId, action, resource) => {
      const holder = byLogicalId.get(logicalId)?.holder;
      if (!holder) throw new Error(`iam: ${logicalId} is not a function or state machine of the template`);
      return authorize(holder, action, [resource]);
    },
    stats: () => engine.stats(),
    secrets: () =>
      Object.fromEntries(
        [...byLogicalId].map(([logicalId, principal]) => [logicalId, principal.secretAccessKey]),
      ),
  };
}
