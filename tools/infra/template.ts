// Loads a SAM/CloudFormation template and resolves it to the values the local cloud uses, so that the local
// cloud is driven by template.yaml alone: a new table, route, function or rule needs no change here. The parts:
// templateYaml.ts (short forms, value checks), templateCore.ts (parameters, conditions, intrinsics),
// templateResources.ts (functions, tables), and here the WebSocket API, EventBridge and the state machines.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { parseDocument } from 'yaml';
import { version as yamlVersion } from 'yaml/package.json';
import { withDeployConstants } from './parameters';
import { cachedParse } from './templateCache';
import { expandForEach, FOR_EACH_PARTS } from './templateForEach';
import { TemplateResources } from './templateResources';
import type {
  LoadTemplateOptions,
  LocalEventBus,
  LocalEventRule,
  LocalEventTarget,
  LocalPipe,
  LocalQueue,
  LocalRoute,
  LocalSchedule,
  LocalStateMachine,
  LocalTemplate,
  LocalWebSocketApi,
  Obj,
} from './templateTypes';
import { cfnTags, intrinsicKey, isObj, list, longForm, num, splitGetAtt, str } from './templateYaml';

export type {
  LoadTemplateOptions,
  LocalEventBus,
  LocalEventRule,
  LocalEventTarget,
  LocalFunction,
  LocalPipe,
  LocalQueue,
  LocalRoute,
  LocalSchedule,
  LocalStateMachine,
  LocalTable,
  LocalTemplate,
  LocalWebSocketApi,
} from './templateTypes';

/** A template file read as plain values: what the local cloud hands its threads, so that none parses it again. */
export interface TemplateFile {
  path: string;
  raw: Obj;
}

const parsed = new Map<string, { version: string; raw: Obj }>();

/** What the parse of a template's text depends on besides the text: a change to any of them is a cache miss. */
const PARSER = ['yaml', yamlVersion, cfnTags, longForm, splitGetAtt, ...FOR_EACH_PARTS()]
  .map(String)
  .join('\n');

/**
 * Reads a template file as plain values, CloudFormation's short forms as their long forms and its Fn::ForEach loops
 * expanded (templateForEach.ts). Parsing the YAML costs
 * far more than the rest of loading, and one start of the local cloud loads the template several times, so a file
 * is read once per version (modification time and size) and each reader gets its own copy; a text parsed before,
 * by this or another process, comes from the cache on disk (templateCache.ts).
 */
export function readTemplateFile(path: string): TemplateFile {
  const templatePath = resolvePath(path);
  const { mtimeMs, size } = statSync(templatePath);
  const version = `${mtimeMs}:${size}`;
  let known = parsed.get(templatePath);
  if (known?.version !== version) {
    const raw = cachedParse(readFileSync(templatePath, 'utf8'), PARSER, (text) => {
      const doc = parseDocument(text, { customTags: cfnTags() });
      if (doc.errors.length > 0)
        throw new Error(`${templatePath}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const value = doc.toJS({ maxAliasCount: -1 }) as unknown;
      // Fn::ForEach expanded first, as CloudFormation runs AWS::LanguageExtensions before the SAM transform: every
      // reader (the local cloud, the tests) sees the resources the loops make, under their logical ids.
      return isObj(value) ? expandForEach(value, templatePath) : value;
    });
    if (!isObj(raw)) throw new Error(`${templatePath}: not a template (expected a mapping)`);
    known = { version, raw };
    parsed.set(templatePath, known);
  }
  return { path: templatePath, raw: structuredClone(known.raw) };
}

/** Loads a template from its file, or from a file already read (readTemplateFile). */
export function loadTemplate(source: string | TemplateFile, opts: LoadTemplateOptions = {}): LocalTemplate {
  const { path, raw } = typeof source === 'string' ? readTemplateFile(source) : source;
  return new Template(path, withDeployConstants(raw, opts.constants) as typeof raw, opts);
}

class Template extends TemplateResources implements LocalTemplate {
  webSocketApis(): LocalWebSocketApi[] {
    const ofApi = (type: string, apiId: string) =>
      this.resourceIds(type).filter((id) => this.prop(id, 'ApiId') === apiId);
    return this.resourceIds('AWS::ApiGatewayV2::Api')
      .filter((id) => this.prop(id, 'ProtocolType') === 'WEBSOCKET')
      .map((logicalId): LocalWebSocketApi => {
        const id = str(this.physicalId(logicalId), logicalId);
        const [stage] = ofApi('AWS::ApiGatewayV2::Stage', id);
        if (!stage)
          throw new Error(`Resources.${logicalId}: no AWS::ApiGatewayV2::Stage has ApiId ${logicalId}`);
        const settings = this.prop(stage, 'DefaultRouteSettings');
        const rate = isObj(settings) ? settings.ThrottlingRateLimit : undefined;
        const burst = isObj(settings) ? settings.ThrottlingBurstLimit : undefined;
        const routeSettings = this.prop(stage, 'RouteSettings');
        const routeThrottling: Record<string, { rateLimit?: number; burstLimit?: number }> = {};
        for (const [routeKey, own] of Object.entries(isObj(routeSettings) ? routeSettings : {})) {
          if (!isObj(own)) continue;
          const at = `Resources.${stage}.Properties.RouteSettings.${routeKey}`;
          routeThrottling[routeKey] = {
            ...(own.ThrottlingRateLimit !== undefined && {
              rateLimit: num(own.ThrottlingRateLimit, 0, `${at}.ThrottlingRateLimit`),
            }),
            ...(own.ThrottlingBurstLimit !== undefined && {
              burstLimit: num(own.ThrottlingBurstLimit, 0, `${at}.ThrottlingBurstLimit`),
            }),
          };
        }
        const name = this.prop(logicalId, 'Name');
        const responses = new Set(
          ofApi('AWS::ApiGatewayV2::RouteResponse', id).map((rr) => this.prop(rr, 'RouteId')),
        );
        return {
          logicalId,
          id,
          ...(typeof name === 'string' && { name }),
          routeSelectionExpression: str(this.prop(logicalId, 'RouteSelectionExpression'), logicalId),
          stageName: str(this.prop(stage, 'StageName'), `Resources.${stage}.Properties.StageName`),
          ...(rate !== undefined &&
            burst !== undefined && {
              stageThrottling: { rateLimit: Number(rate), burstLimit: Number(burst) },
            }),
          ...(Object.keys(routeThrottling).length > 0 && { routeThrottling }),
          routes: ofApi('AWS::ApiGatewayV2::Route', id).map((route) =>
            this.route(route, responses.has(this.physicalId(route))),
          ),
        };
      });
  }

  protected route(logicalId: string, hasRouteResponse: boolean): LocalRoute {
    const path = `Resources.${logicalId}.Properties`;
    const integrations = this.byPhysical(['AWS::ApiGatewayV2::Integration'], (id) =>
      str(this.physicalId(id), id),
    );
    const target = str(this.prop(logicalId, 'Target'), `${path}.Target`);
    const integration = integrations.get(target.replace(/^integrations\//, ''));
    if (!integration) throw new Error(`${path}.Target: ${target} is not an integration of this template`);
    const operationName = this.prop(logicalId, 'OperationName');
    const twoWay = this.prop(logicalId, 'RouteResponseSelectionExpression') !== undefined || hasRouteResponse;
    const routeKey = str(this.prop(logicalId, 'RouteKey'), `${path}.RouteKey`);
    if (this.prop(integration, 'IntegrationType') === 'MOCK') {
      return {
        routeKey,
        twoWay,
        mockResponse: this.mockResponse(integration),
        ...(typeof operationName === 'string' && { operationName }),
      };
    }
    const uri = str(
      this.prop(integration, 'IntegrationUri'),
      `Resources.${integration}.Properties.IntegrationUri`,
    );
    const authorizerId = this.prop(logicalId, 'AuthorizerId');
    return {
      routeKey,
      functionLogicalId: this.functionIn(uri, `Resources.${integration}.Properties.IntegrationUri`),
      twoWay,
      ...(typeof operationName === 'string' && { operationName }),
      ...(authorizerId !== undefined && {
        authorizer: this.authorizer(str(authorizerId, `${path}.AuthorizerId`)),
      }),
    };
  }

  /**
   * A MOCK integration answers with its `$default` integration response's `$default` template. Its request template
   * must name the status (`{"statusCode": 200}`), as AWS requires; only static templates are emulated (no VTL).
   */
  protected mockResponse(integration: string): string {
    const path = `Resources.${integration}.Properties`;
    const request = this.prop(integration, 'RequestTemplates');
    const statusTemplate = isObj(request) ? request.$default : undefined;
    if (typeof statusTemplate !== 'string' || !/"statusCode"\s*:\s*\d{3}/.test(statusTemplate)) {
      throw new Error(
        `${path}.RequestTemplates: a MOCK integration needs {"$default": "{\\"statusCode\\": 200}"}`,
      );
    }
    const responses = this.resourceIds('AWS::ApiGatewayV2::IntegrationResponse').filter(
      (id) => this.prop(id, 'IntegrationId') === this.physicalId(integration),
    );
    const templates = responses.map((id) => this.prop(id, 'ResponseTemplates'));
    const body = templates.map((t) => (isObj(t) ? t.$default : undefined)).find((t) => typeof t === 'string');
    if (typeof body !== 'string')
      throw new Error(`${path}: no IntegrationResponse with a $default response template`);
    if (/[$#]/.test(body))
      throw new Error(`${path}: only static response templates are emulated, got ${body}`);
    return body;
  }

  protected authorizer(physical: string): { functionLogicalId: string; identitySource: string[] } {
    const authorizers = this.byPhysical(['AWS::ApiGatewayV2::Authorizer'], (id) =>
      str(this.physicalId(id), id),
    );
    const logicalId = authorizers.get(physical);
    if (!logicalId) throw new Error(`AuthorizerId ${physical} is not an authorizer of this template`);
    const path = `Resources.${logicalId}.Properties`;
    const uri = str(this.prop(logicalId, 'AuthorizerUri'), `${path}.AuthorizerUri`);
    const sources = this.prop(logicalId, 'IdentitySource');
    return {
      functionLogicalId: this.functionIn(uri, `${path}.AuthorizerUri`),
      identitySource: Array.isArray(sources) ? sources.map((s) => str(s, `${path}.IdentitySource`)) : [],
    };
  }

  eventBuses(): LocalEventBus[] {
    return this.resourceIds('AWS::Events::EventBus').map((logicalId) => ({
      logicalId,
      name: str(this.physicalId(logicalId), logicalId),
      arn: this.getAtt(logicalId, 'Arn'),
    }));
  }

  /** The functions' SAM `Schedule` events that are enabled. */
  schedules(): LocalSchedule[] {
    const schedules: LocalSchedule[] = [];
    for (const [functionId, fn] of this.resources) {
      if (fn.Type !== 'AWS::Serverless::Function') continue;
      const events = isObj(fn.Properties.Events) ? fn.Properties.Events : {};
      for (const [eventId, event] of Object.entries(events)) {
        if (!isObj(event) || event.Type !== 'Schedule') continue;
        const path = `Resources.${functionId}.Properties.Events.${eventId}.Properties`;
        const props = this.pick(event.Properties, ['Schedule', 'Input', 'Enabled', 'State'], path);
        if (props.Enabled === false || props.State === 'DISABLED') continue;
        schedules.push({
          logicalId: `${functionId}${eventId}`,
          functionId,
          expression: str(props.Schedule, `${path}.Schedule`),
          ...(props.Input !== undefined && {
            input: JSON.parse(str(props.Input, `${path}.Input`)) as unknown,
          }),
        });
      }
    }
    return schedules;
  }

  eventRules(): LocalEventRule[] {
    const targets = new Map<string, { kind: LocalEventTarget['kind']; logicalId: string }>();
    for (const fn of this.functions()) targets.set(fn.arn, { kind: 'function', logicalId: fn.logicalId });
    for (const id of this.stateMachineIds()) {
      targets.set(str(this.physicalId(id), id), { kind: 'stateMachine', logicalId: id });
    }
    for (const id of this.resourceIds('AWS::SQS::Queue'))
      targets.set(this.getAtt(id, 'Arn'), { kind: 'queue', logicalId: id });
    const busName = (value: unknown, path: string): string => {
      if (value === undefined) return 'default';
      const text = str(value, path);
      // A bus ARN ends in `event-bus/<name>`.
      return text.startsWith('arn:') ? text.slice(text.indexOf('event-bus/') + 'event-bus/'.length) : text;
    };
    const pattern = (value: unknown, path: string): Obj => {
      const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
      if (!isObj(parsed)) throw new Error(`${path}: expected an event pattern object`);
      return parsed;
    };
    const target = (arn: unknown, extra: Obj, path: string): LocalEventTarget => {
      const found = targets.get(str(arn, path));
      if (!found)
        throw new Error(
          `${path}: target ${String(arn)} is not a function, state machine or queue of this template`,
        );
      const sqs = isObj(extra.SqsParameters) ? extra.SqsParameters : undefined;
      return {
        ...found,
        arn: str(arn, path),
        ...(extra.Input !== undefined && { input: JSON.parse(str(extra.Input, `${path}.Input`)) as unknown }),
        ...(typeof extra.InputPath === 'string' && { inputPath: extra.InputPath }),
        ...(isObj(extra.DeadLetterConfig) &&
          extra.DeadLetterConfig.Arn !== undefined && {
            deadLetterArn: str(extra.DeadLetterConfig.Arn, `${path}.DeadLetterConfig.Arn`),
          }),
        ...(sqs?.MessageGroupId !== undefined && {
          messageGroupId: str(sqs.MessageGroupId, `${path}.SqsParameters.MessageGroupId`),
        }),
        ...(extra.RetryPolicy !== undefined && {
          retryPolicy: retryPolicy(extra.RetryPolicy, `${path}.RetryPolicy`),
        }),
      };
    };

    const rules: LocalEventRule[] = [];
    for (const logicalId of this.resourceIds('AWS::Events::Rule')) {
      const path = `Resources.${logicalId}.Properties`;
      const props = this.pick(
        this.resources.get(logicalId)?.Properties,
        ['EventBusName', 'EventPattern', 'State'],
        path,
      );
      // Schedule-only and disabled rules never match a PutEvents entry.
      if (props.EventPattern === undefined || props.State === 'DISABLED') continue;
      const rawTargets = this.resources.get(logicalId)?.Properties.Targets ?? [];
      const targetList = Array.isArray(rawTargets)
        ? rawTargets
        : list(this.resolve(rawTargets, path), `${path}.Targets`);
      rules.push({
        logicalId,
        busName: busName(props.EventBusName, `${path}.EventBusName`),
        pattern: pattern(props.EventPattern, `${path}.EventPattern`),
        targets: targetList.map((t, i) => {
          const tp = `${path}.Targets[${i}]`;
          const picked = this.pick(
            isObj(t) && intrinsicKey(t) ? this.resolve(t, tp) : t,
            ['Arn', 'Input', 'InputPath', 'DeadLetterConfig', 'SqsParameters', 'RetryPolicy'],
            tp,
          );
          return target(picked.Arn, picked, tp);
        }),
      });
    }
    // SAM `Events` of type EventBridgeRule become a rule named <Resource><Event> with that resource as target.
    for (const [ownerId, owner] of this.resources) {
      if (owner.Type !== 'AWS::Serverless::Function' && owner.Type !== 'AWS::Serverless::StateMachine')
        continue;
      const events = isObj(owner.Properties.Events) ? owner.Properties.Events : {};
      for (const [eventId, event] of Object.entries(events)) {
        if (!isObj(event) || (event.Type !== 'EventBridgeRule' && event.Type !== 'CloudWatchEvent')) continue;
        const path = `Resources.${ownerId}.Properties.Events.${eventId}.Properties`;
        const keys = [
          'EventBusName',
          'Pattern',
          'State',
          'Enabled',
          'Input',
          'InputPath',
          'DeadLetterConfig',
          'RetryPolicy',
        ];
        const props = this.pick(event.Properties, keys, path);
        if (props.Pattern === undefined || props.State === 'DISABLED' || props.Enabled === false) continue;
        const arn =
          owner.Type === 'AWS::Serverless::Function' ? this.getAtt(ownerId, 'Arn') : this.physicalId(ownerId);
        rules.push({
          logicalId: `${ownerId}${eventId}`,
          busName: busName(props.EventBusName, `${path}.EventBusName`),
          pattern: pattern(props.Pattern, `${path}.Pattern`),
          targets: [target(arn, props, path)],
        });
      }
    }
    return rules;
  }

  /**
   * The template's SQS queues, refused where SQS or CloudFormation refuses them: a FIFO queue's name ends in `.fifo`
   * (a standard one's never), ContentBasedDeduplication is for FIFO only, each attribute within SQS's range, and a
   * RedrivePolicy names a queue of this template of the same kind (a FIFO queue's dead-letter queue is FIFO).
   */
  queues(): LocalQueue[] {
    const ids = this.resourceIds('AWS::SQS::Queue');
    const queues = ids.map((logicalId): LocalQueue => {
      const path = `Resources.${logicalId}.Properties`;
      const bool = (key: string): boolean => {
        const value = this.prop(logicalId, key);
        if (value === undefined) return false;
        if (value === true || value === 'true') return true;
        if (value === false || value === 'false') return false;
        throw new Error(`${path}.${key}: expected a boolean, got ${JSON.stringify(value)}`);
      };
      const ranged = (key: string, fallback: number, min: number, max: number): number => {
        const value = num(this.prop(logicalId, key), fallback, `${path}.${key}`);
        if (!Number.isInteger(value) || value < min || value > max)
          throw new Error(`${path}.${key}: ${value} is outside SQS's range ${min}..${max}`);
        return value;
      };
      const fifo = bool('FifoQueue');
      const name = this.queueName(logicalId);
      if (fifo !== name.endsWith('.fifo'))
        throw new Error(
          fifo
            ? `${path}.QueueName: the name of a FIFO queue must end with the .fifo suffix (${name})`
            : `${path}.QueueName: ${name} ends with .fifo, but FifoQueue is not true`,
        );
      if (!/^[\w-]{1,80}$/.test(name.replace(/\.fifo$/, '')) || name.length > 80)
        throw new Error(`${path}.QueueName: ${name} is not 1 to 80 alphanumerics, hyphens and underscores`);
      const contentBasedDeduplication = bool('ContentBasedDeduplication');
      if (contentBasedDeduplication && !fifo)
        throw new Error(`${path}.ContentBasedDeduplication: only a FIFO queue deduplicates by content`);
      const choice = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
        const value = this.prop(logicalId, key);
        if (value === undefined) return fallback;
        if (!fifo) throw new Error(`${path}.${key}: only a FIFO queue has a ${key}`);
        if (!values.includes(value as T))
          throw new Error(
            `${path}.${key}: expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`,
          );
        return value as T;
      };
      const deduplicationScope = choice('DeduplicationScope', ['queue', 'messageGroup'] as const, 'queue');
      const fifoThroughputLimit = choice(
        'FifoThroughputLimit',
        ['perQueue', 'perMessageGroupId'] as const,
        'perQueue',
      );
      // SQS refuses the pair (SQS developer guide, "High throughput for FIFO queues"): the quota per message group
      // needs deduplication per message group.
      if (fifoThroughputLimit === 'perMessageGroupId' && deduplicationScope !== 'messageGroup')
        throw new Error(
          `${path}.FifoThroughputLimit: perMessageGroupId requires DeduplicationScope messageGroup (InvalidAttributeValue)`,
        );
      const redrive = this.prop(logicalId, 'RedrivePolicy');
      const policy = typeof redrive === 'string' ? (JSON.parse(redrive) as unknown) : redrive;
      let redrivePolicy: LocalQueue['redrivePolicy'];
      if (policy !== undefined) {
        if (!isObj(policy)) throw new Error(`${path}.RedrivePolicy: expected an object`);
        const maxReceiveCount = num(
          policy.maxReceiveCount,
          Number.NaN,
          `${path}.RedrivePolicy.maxReceiveCount`,
        );
        if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000)
          throw new Error(`${path}.RedrivePolicy.maxReceiveCount: ${maxReceiveCount} is outside 1..1000`);
        redrivePolicy = {
          deadLetterTargetArn: str(policy.deadLetterTargetArn, `${path}.RedrivePolicy.deadLetterTargetArn`),
          maxReceiveCount,
        };
      }
      return {
        logicalId,
        name,
        arn: this.getAtt(logicalId, 'Arn'),
        url: str(this.physicalId(logicalId), path),
        fifo,
        contentBasedDeduplication,
        deduplicationScope,
        fifoThroughputLimit,
        visibilityTimeoutSeconds: ranged('VisibilityTimeout', 30, 0, 43_200),
        messageRetentionSeconds: ranged('MessageRetentionPeriod', 345_600, 60, 1_209_600),
        delaySeconds: ranged('DelaySeconds', 0, 0, 900),
        maximumMessageSize: ranged('MaximumMessageSize', 262_144, 1024, 262_144),
        ...(redrivePolicy && { redrivePolicy }),
      };
    });
    for (const queue of queues) {
      const target = queue.redrivePolicy?.deadLetterTargetArn;
      if (target === undefined) continue;
      const path = `Resources.${queue.logicalId}.Properties.RedrivePolicy.deadLetterTargetArn`;
      const dlq = queues.find((q) => q.arn === target);
      if (!dlq) throw new Error(`${path}: ${target} is not a queue of this template`);
      if (dlq.fifo !== queue.fifo)
        throw new Error(
          `${path}: the dead-letter queue of a ${queue.fifo ? 'FIFO' : 'standard'} queue must also be a ${queue.fifo ? 'FIFO' : 'standard'} queue`,
        );
    }
    return queues;
  }

  /**
   * The template's pipes: an SQS queue of the template as source, a state machine of the template as target, and
   * the role their RoleArn names. What the local cloud does not run (other sources or targets, enrichment, filters,
   * input templates) is refused by name rather than run differently.
   */
  pipes(): LocalPipe[] {
    const queues = new Map(this.queues().map((q) => [q.arn, q]));
    const machines = new Map(this.stateMachines().map((m) => [m.arn, m]));
    return this.resourceIds('AWS::Pipes::Pipe').map((logicalId): LocalPipe => {
      const path = `Resources.${logicalId}.Properties`;
      const raw = this.resource(logicalId, path).Properties;
      for (const key of ['Enrichment', 'EnrichmentParameters'])
        if (raw[key] !== undefined)
          throw new Error(`${path}.${key}: enrichment is not emulated by the local cloud`);
      const sourceArn = str(this.prop(logicalId, 'Source'), `${path}.Source`);
      const queue = queues.get(sourceArn);
      if (!queue) throw new Error(`${path}.Source: ${sourceArn} is not an SQS queue of this template`);
      const source = this.prop(logicalId, 'SourceParameters');
      const sourceParams = isObj(source) ? source : {};
      for (const key of Object.keys(sourceParams))
        if (key !== 'SqsQueueParameters')
          throw new Error(`${path}.SourceParameters.${key}: not emulated by the local cloud`);
      const sqs = isObj(sourceParams.SqsQueueParameters) ? sourceParams.SqsQueueParameters : {};
      const batchSize = num(sqs.BatchSize, 10, `${path}.SourceParameters.SqsQueueParameters.BatchSize`);
      const window = num(
        sqs.MaximumBatchingWindowInSeconds,
        0,
        `${path}.SourceParameters.SqsQueueParameters.MaximumBatchingWindowInSeconds`,
      );
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
        throw new Error(
          `${path}.SourceParameters.SqsQueueParameters.BatchSize: ${batchSize} is outside 1..10000`,
        );
      if (queue.fifo && batchSize > 10)
        throw new Error(
          `${path}.SourceParameters.SqsQueueParameters.BatchSize: a FIFO queue source takes at most 10`,
        );
      if (!Number.isInteger(window) || window < 0 || window > 300)
        throw new Error(
          `${path}.SourceParameters.SqsQueueParameters.MaximumBatchingWindowInSeconds: ${window} is outside 0..300`,
        );
      if (batchSize > 10 && window < 1)
        throw new Error(
          `${path}.SourceParameters.SqsQueueParameters: a BatchSize above 10 needs a MaximumBatchingWindowInSeconds of at least 1`,
        );
      const targetArn = str(this.prop(logicalId, 'Target'), `${path}.Target`);
      const machine = machines.get(targetArn);
      if (!machine) throw new Error(`${path}.Target: ${targetArn} is not a state machine of this template`);
      const target = this.prop(logicalId, 'TargetParameters');
      const targetParams = isObj(target) ? target : {};
      for (const key of Object.keys(targetParams))
        if (key !== 'StepFunctionStateMachineParameters')
          throw new Error(`${path}.TargetParameters.${key}: not emulated by the local cloud`);
      const sfn = isObj(targetParams.StepFunctionStateMachineParameters)
        ? targetParams.StepFunctionStateMachineParameters
        : {};
      const invocationType = sfn.InvocationType ?? 'REQUEST_RESPONSE';
      if (invocationType !== 'REQUEST_RESPONSE' && invocationType !== 'FIRE_AND_FORGET')
        throw new Error(
          `${path}.TargetParameters.StepFunctionStateMachineParameters.InvocationType: ${String(invocationType)} is not REQUEST_RESPONSE or FIRE_AND_FORGET`,
        );
      if (invocationType === 'REQUEST_RESPONSE' && machine.type !== 'EXPRESS')
        throw new Error(
          `${path}.TargetParameters.StepFunctionStateMachineParameters.InvocationType: REQUEST_RESPONSE is not supported for a STANDARD state machine (${machine.logicalId})`,
        );
      const roleArn = raw.RoleArn;
      const getAtt = isObj(roleArn) ? roleArn['Fn::GetAtt'] : undefined;
      const roleLogicalId = Array.isArray(getAtt) ? getAtt[0] : undefined;
      if (typeof roleLogicalId !== 'string' || !this.resourceIds('AWS::IAM::Role').includes(roleLogicalId))
        throw new Error(`${path}.RoleArn: expected !GetAtt <an AWS::IAM::Role of this template>.Arn`);
      const desiredState = this.prop(logicalId, 'DesiredState') ?? 'RUNNING';
      if (desiredState !== 'RUNNING' && desiredState !== 'STOPPED')
        throw new Error(`${path}.DesiredState: ${String(desiredState)} is not RUNNING or STOPPED`);
      return {
        logicalId,
        name: str(this.physicalId(logicalId), path),
        arn: this.getAtt(logicalId, 'Arn'),
        sourceArn,
        batchSize,
        maximumBatchingWindowSeconds: window,
        targetArn,
        invocationType,
        roleLogicalId,
        desiredState,
      };
    });
  }

  /** Resolves only the given keys: the others (roles, retry policies...) may use attributes the local cloud lacks. */
  protected pick(value: unknown, keys: string[], path: string): Obj {
    const out: Obj = {};
    if (!isObj(value)) return out;
    for (const key of keys) {
      if (value[key] !== undefined) out[key] = this.resolve(value[key], `${path}.${key}`);
    }
    return out;
  }

  protected stateMachineIds(): string[] {
    return [
      ...this.resourceIds('AWS::Serverless::StateMachine'),
      ...this.resourceIds('AWS::StepFunctions::StateMachine'),
    ];
  }

  stateMachines(): LocalStateMachine[] {
    return this.stateMachineIds().map((logicalId): LocalStateMachine => {
      const r = this.resource(logicalId, logicalId);
      const sam = r.Type === 'AWS::Serverless::StateMachine';
      const path = `Resources.${logicalId}.Properties`;
      const type = this.prop(logicalId, sam ? 'Type' : 'StateMachineType') ?? 'STANDARD';
      if (type !== 'STANDARD' && type !== 'EXPRESS')
        throw new Error(`${path}: unknown state machine type ${type}`);
      const text = this.definitionText(logicalId, sam, path);
      const subs = this.prop(logicalId, 'DefinitionSubstitutions');
      const substituted = text.replace(/\$\{([^}]*)\}/g, (whole, key: string) =>
        isObj(subs) && key in subs ? str(subs[key], `${path}.DefinitionSubstitutions.${key}`) : whole,
      );
      const left = /\$\{([^}]*)\}/.exec(substituted);
      if (left) {
        throw new Error(`State machine ${logicalId}: \${${left[1]}} has no entry in DefinitionSubstitutions`);
      }
      const definition = JSON.parse(substituted) as unknown;
      if (!isObj(definition)) throw new Error(`${path}: the definition is not a JSON object`);
      return {
        logicalId,
        name: this.stateMachineName(logicalId),
        arn: str(this.physicalId(logicalId), logicalId),
        type,
        definition,
      };
    });
  }

  protected definitionText(logicalId: string, sam: boolean, path: string): string {
    const uri = this.prop(logicalId, sam ? 'DefinitionUri' : 'DefinitionS3Location');
    if (typeof uri === 'string') return readFileSync(join(this.dir, uri), 'utf8');
    if (uri !== undefined) throw new Error(`${path}: an S3 definition location cannot be read locally`);
    const inline = this.prop(logicalId, 'Definition');
    if (inline !== undefined) return JSON.stringify(inline);
    const definitionString = this.prop(logicalId, 'DefinitionString');
    if (typeof definitionString === 'string') return definitionString;
    throw new Error(`${path}: no DefinitionUri, Definition or DefinitionString`);
  }
}

/**
 * A rule target's RetryPolicy as PutTargets takes it: MaximumRetryAttempts 0 to 185 (default 185),
 * MaximumEventAgeInSeconds 60 to 86,400 (default 86,400) (EventBridge API reference, RetryPolicy).
 */
function retryPolicy(value: unknown, path: string): NonNullable<LocalEventTarget['retryPolicy']> {
  if (!isObj(value)) throw new Error(`${path}: expected an object`);
  const ranged = (key: string, fallback: number, min: number, max: number): number => {
    const got = num(value[key], fallback, `${path}.${key}`);
    if (!Number.isInteger(got) || got < min || got > max)
      throw new Error(`${path}.${key}: ${got} is outside EventBridge's range ${min}..${max}`);
    return got;
  };
  for (const key of Object.keys(value))
    if (key !== 'MaximumRetryAttempts' && key !== 'MaximumEventAgeInSeconds')
      throw new Error(
        `${path}.${key}: RetryPolicy has MaximumRetryAttempts and MaximumEventAgeInSeconds only`,
      );
  return {
    maximumRetryAttempts: ranged('MaximumRetryAttempts', 185, 0, 185),
    maximumEventAgeSeconds: ranged('MaximumEventAgeInSeconds', 86_400, 60, 86_400),
  };
}
