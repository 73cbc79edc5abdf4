// The principals of a template as IAM sees them: one role per function and per state machine, holding the
// template's policy statements for it (SAM `Policies:` or the AWS::IAM::Role named by `Role:`), resolved.
import type { LocalTemplate } from '../../infra/template';
import type { PolicyDocument, PolicyHolder } from './policies';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const PRINCIPAL_TYPES: Record<string, 'function' | 'stateMachine' | 'pipe'> = {
  'AWS::Pipes::Pipe': 'pipe',
  'AWS::Serverless::Function': 'function',
  'AWS::Lambda::Function': 'function',
  'AWS::Serverless::StateMachine': 'stateMachine',
  'AWS::StepFunctions::StateMachine': 'stateMachine',
};

export interface TemplatePrincipal extends PolicyHolder {
  kind: 'function' | 'stateMachine' | 'pipe';
  /**
   * Policies the local cloud cannot expand (AWS managed policies, SAM policy templates): they grant nothing here.
   * Customer managed policies of the template are expanded.
   */
  ignored: string[];
}

function rawProperties(template: LocalTemplate, logicalId: string): Obj {
  const resources = isObj(template.raw.Resources) ? template.raw.Resources : {};
  const resource = resources[logicalId];
  return isObj(resource) && isObj(resource.Properties) ? resource.Properties : {};
}

/** `Role: !GetAtt SomeRole.Arn` (or `!Ref`-free forms) -> the logical id of an AWS::IAM::Role of the template. */
function roleLogicalId(template: LocalTemplate, role: unknown): string | undefined {
  if (!isObj(role)) return undefined;
  const getAtt = role['Fn::GetAtt'];
  const id = Array.isArray(getAtt) ? getAtt[0] : undefined;
  return typeof id === 'string' && template.resourceIds('AWS::IAM::Role').includes(id) ? id : undefined;
}

/**
 * IAM's quotas on a role's policies, refused by AWS at deploy (IAM User Guide, "IAM and AWS STS quotas"): managed
 * policies attached to a role (10 by default), a managed policy's size and a role's inline policies' total size,
 * counted in characters without whitespace.
 */
export const IAM_QUOTAS = { managedPerRole: 10, managedPolicyChars: 6144, inlineCharsPerRole: 10240 };

const charsOf = (document: unknown) => JSON.stringify(document).replace(/\s/g, '').length;

/** AWS refuses a policy whose statements repeat a Sid ("Statement IDs (SID) in a single policy must be unique"). */
function checkSids(document: PolicyDocument, where: string): void {
  const seen = new Set<string>();
  for (const statement of Array.isArray(document.Statement) ? document.Statement : [document.Statement]) {
    const sid = isObj(statement) ? statement.Sid : undefined;
    if (typeof sid !== 'string') continue;
    if (seen.has(sid))
      throw new Error(`${where}: MalformedPolicyDocument: the Sid ${sid} appears twice in one policy`);
    seen.add(sid);
  }
}

/**
 * The customer managed policies of the template by ARN (what `!Ref` of an AWS::IAM::ManagedPolicy gives), each
 * refused as AWS refuses it: over the size quota, or repeating a Sid.
 */
function managedPolicies(template: LocalTemplate): Map<string, { name: string; document: PolicyDocument }> {
  const byArn = new Map<string, { name: string; document: PolicyDocument }>();
  for (const logicalId of template.resourceIds('AWS::IAM::ManagedPolicy')) {
    const path = `Resources.${logicalId}.Properties.PolicyDocument`;
    const document = template.resolve(rawProperties(template, logicalId).PolicyDocument, path);
    if (!isObj(document) || !('Statement' in document))
      throw new Error(`${path}: a policy document needs a Statement`);
    const chars = charsOf(document);
    if (chars > IAM_QUOTAS.managedPolicyChars)
      throw new Error(
        `${path}: LimitExceeded: a managed policy holds at most ${IAM_QUOTAS.managedPolicyChars} characters, this one ${chars}`,
      );
    checkSids(document as unknown as PolicyDocument, path);
    byArn.set(String(template.physicalId(logicalId)), {
      name: logicalId,
      document: document as unknown as PolicyDocument,
    });
  }
  return byArn;
}

function documentsOf(
  template: LocalTemplate,
  logicalId: string,
  managed: Map<string, { name: string; document: PolicyDocument }>,
): { documents: { name: string; document: PolicyDocument }[]; ignored: string[] } {
  const props = rawProperties(template, logicalId);
  const documents: { name: string; document: PolicyDocument }[] = [];
  const ignored: string[] = [];
  // A pipe names its role with RoleArn; a function or state machine with Role.
  const roleId = roleLogicalId(template, props.Role ?? props.RoleArn);
  if (roleId) {
    const role = rawProperties(template, roleId);
    const policies = Array.isArray(role.Policies) ? role.Policies : [];
    policies.forEach((policy, i) => {
      const path = `Resources.${roleId}.Properties.Policies[${i}]`;
      const resolved = template.resolve(policy, path);
      if (isObj(resolved) && isObj(resolved.PolicyDocument)) {
        documents.push({
          name: String(resolved.PolicyName ?? `${roleId}Policy${i}`),
          document: resolved.PolicyDocument as unknown as PolicyDocument,
        });
      }
    });
    if (Array.isArray(role.ManagedPolicyArns)) ignored.push(`${roleId}.ManagedPolicyArns`);
    return { documents, ignored };
  }
  if (props.Role !== undefined) ignored.push(`${logicalId}.Role (not a role of this template)`);
  const policies =
    props.Policies === undefined ? [] : Array.isArray(props.Policies) ? props.Policies : [props.Policies];
  // SAM attaches AWSLambdaBasicExecutionRole to every function role, and AWSXrayWriteOnlyAccess with Tracing Active.
  let attached = 1 + (props.Tracing === 'Active' ? 1 : 0);
  let inlineChars = 0;
  policies.forEach((policy, i) => {
    const path = `Resources.${logicalId}.Properties.Policies[${i}]`;
    const resolved = template.resolve(policy, path);
    if (isObj(resolved) && 'Statement' in resolved) {
      const document = { Version: '2012-10-17', ...(resolved as Obj), Statement: resolved.Statement };
      checkSids(document as PolicyDocument, path);
      inlineChars += charsOf(document);
      documents.push({ name: `${logicalId}RolePolicy${i}`, document: document as PolicyDocument });
    } else if (typeof resolved === 'string' && managed.has(resolved)) {
      // A customer managed policy of this template (`!Ref <ManagedPolicy>`): its statements, as IAM attaches them.
      attached++;
      documents.push(managed.get(resolved) as { name: string; document: PolicyDocument });
    } else if (typeof resolved === 'string') {
      attached++;
      ignored.push(`${logicalId} managed policy ${resolved}`);
    } else if (isObj(resolved)) {
      ignored.push(`${logicalId} policy template ${Object.keys(resolved).join(', ')}`);
    }
  });
  if (attached > IAM_QUOTAS.managedPerRole)
    throw new Error(
      `Resources.${logicalId}.Properties.Policies: LimitExceeded: a role holds at most ${IAM_QUOTAS.managedPerRole} managed policies, this one ${attached} (with SAM's own)`,
    );
  if (inlineChars > IAM_QUOTAS.inlineCharsPerRole)
    throw new Error(
      `Resources.${logicalId}.Properties.Policies: LimitExceeded: a role's inline policies hold at most ${IAM_QUOTAS.inlineCharsPerRole} characters, these ${inlineChars}`,
    );
  return { documents, ignored };
}

/**
 * Every function and state machine of the template with the statements of its execution role. The role is named
 * as SAM names it (`<LogicalId>Role`); the session is the function's name, as Lambda names it.
 */
export function templatePrincipals(template: LocalTemplate): TemplatePrincipal[] {
  const out: TemplatePrincipal[] = [];
  const managed = managedPolicies(template);
  for (const [type, kind] of Object.entries(PRINCIPAL_TYPES)) {
    for (const logicalId of template.resourceIds(type)) {
      const { documents, ignored } = documentsOf(template, logicalId, managed);
      const session =
        kind === 'function'
          ? String(template.physicalId(logicalId))
          : kind === 'pipe'
            ? `${logicalId}-pipe`
            : `${logicalId}-execution`;
      out.push({
        logicalId,
        kind,
        arn: `arn:aws:sts::${template.accountId}:assumed-role/${template.stackName}-${logicalId}Role/${session}`,
        policies: documents,
        ignored,
      });
    }
  }
  return out;
}
