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
  /** Policies the local cloud cannot expand (managed policies, SAM policy templates): they grant nothing here. */
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

function documentsOf(
  template: LocalTemplate,
  logicalId: string,
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
  policies.forEach((policy, i) => {
    const path = `Resources.${logicalId}.Properties.Policies[${i}]`;
    // `!Ref <ManagedPolicy>` of this template: SAM attaches its ARN to the role; its PolicyDocument is what it grants.
    const managed = managedPolicyOf(template, policy);
    if (managed) {
      documents.push(managed);
      return;
    }
    const resolved = template.resolve(policy, path);
    if (isObj(resolved) && 'Statement' in resolved) {
      documents.push({
        name: `${logicalId}RolePolicy${i}`,
        document: { Version: '2012-10-17', ...(resolved as Obj), Statement: resolved.Statement },
      });
    } else if (typeof resolved === 'string') {
      ignored.push(`${logicalId} managed policy ${resolved}`);
    } else if (isObj(resolved)) {
      ignored.push(`${logicalId} policy template ${Object.keys(resolved).join(', ')}`);
    }
  });
  return { documents, ignored };
}

/** The document of an AWS::IAM::ManagedPolicy of this template that `policy` (`{Ref: <logicalId>}`) names. */
function managedPolicyOf(
  template: LocalTemplate,
  policy: unknown,
): { name: string; document: PolicyDocument } | undefined {
  const ref = isObj(policy) ? policy.Ref : undefined;
  if (typeof ref !== 'string' || !template.resourceIds('AWS::IAM::ManagedPolicy').includes(ref))
    return undefined;
  const document = template.resolve(
    rawProperties(template, ref).PolicyDocument,
    `Resources.${ref}.Properties.PolicyDocument`,
  );
  return isObj(document) ? { name: ref, document: document as unknown as PolicyDocument } : undefined;
}

/**
 * Every function and state machine of the template with the statements of its execution role. The role is named
 * as SAM names it (`<LogicalId>Role`); the session is the function's name, as Lambda names it.
 */
export function templatePrincipals(template: LocalTemplate): TemplatePrincipal[] {
  const out: TemplatePrincipal[] = [];
  for (const [type, kind] of Object.entries(PRINCIPAL_TYPES)) {
    for (const logicalId of template.resourceIds(type)) {
      const { documents, ignored } = documentsOf(template, logicalId);
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
