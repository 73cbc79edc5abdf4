import type { LocalTemplate } from '../../tools/infra/template';

/** Whether a named condition of the template holds, evaluated by the model's own Fn::If. */
export function conditionHolds(template: LocalTemplate, name: string): boolean {
  return template.resolve({ 'Fn::If': [name, true, false] }, `Conditions.${name}`) === true;
}

/**
 * The template's Outputs as CloudFormation would show them (those whose Condition holds). Only tests read
 * Outputs: the local cloud prints its own endpoints.
 */
export function templateOutputs(template: LocalTemplate): Record<string, unknown> {
  const outputs = (template.raw.Outputs ?? {}) as Record<string, { Value?: unknown; Condition?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(outputs)) {
    if (typeof output.Condition === 'string' && !conditionHolds(template, output.Condition)) continue;
    out[name] = template.resolve(output.Value, `Outputs.${name}.Value`);
  }
  return out;
}

/**
 * The functions template.yaml has, named once for the tests that hold the template to them (its routes, its invoke
 * permissions, its local environment): the feature functions the WebSocket API routes to, then every function.
 */
export const FEATURE_FUNCTIONS = [
  'AttachmentsFunction',
  'ConnectionFunction',
  'MessagesFunction',
  'PeopleFunction',
  'PushFunction',
  'ReadingFunction',
  'RoomsFunction',
  'TypingFunction',
  'SafetyFunction',
];
export const TEMPLATE_FUNCTIONS = [
  ...FEATURE_FUNCTIONS,
  'AuthorizerFunction',
  'BroadcastAuthorizerFunction',
  'BroadcastFunction',
  'DeliverFunction',
];
