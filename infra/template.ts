// Loads a SAM/CloudFormation template and resolves it to the values the local cloud uses, so that the local
// cloud is driven by template.yaml alone: a new table, route, function or rule needs no change here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type {
  AttributeDefinition,
  CreateTableInput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  Projection,
} from '@aws-sdk/client-dynamodb';
import type { CollectionTag, ScalarTag } from 'yaml';
import { Pair, parseDocument, Scalar, YAMLMap } from 'yaml';
import { checkSettings, foldSettings, SETTINGS_PARAMETER, settingDefaults, settingValue } from './parameters';

/** The id part of the local stack's AWS::StackId (CloudFormation makes it a random UUID per stack). */
const STACK_UUID = '6f1c2a9e-0b7d-4e54-9a3c-2d8e5f7b1c40';

export interface LoadTemplateOptions {
  stackName?: string;
  region?: string;
  accountId?: string;
  parameters?: Record<string, string>;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  handler: string;
  codeUri: string;
  /** Absolute path of the source entry point (esbuild EntryPoints[0], else the handler's module). */
  entryPoint: string;
  runtime?: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** ReservedConcurrentExecutions, when the template sets it. */
  reservedConcurrency?: number;
  environment: Record<string, string>;
}

/** A CreateTable input plus what CreateTable cannot carry (dynalite has no TTL; startDynamo strips extras). */
export interface LocalTable extends CreateTableInput {
  logicalId: string;
  ttlAttribute?: string;
}

export interface LocalRoute {
  routeKey: string;
  /** The Lambda proxy integration's function; absent for a MOCK integration. */
  functionLogicalId?: string;
  /** A MOCK integration: the body its `$default` integration response template sends back (static text only). */
  mockResponse?: string;
  /** The route returns the integration's response to the client (RouteResponseSelectionExpression/RouteResponse). */
  twoWay: boolean;
  operationName?: string;
  authorizer?: { functionLogicalId: string; identitySource: string[] };
}

export interface LocalWebSocketApi {
  logicalId: string;
  id: string;
  name?: string;
  routeSelectionExpression: string;
  stageName: string;
  stageThrottling?: { rateLimit: number; burstLimit: number };
  /** The stage's RouteSettings throttling, by route key; a missing value falls back to DefaultRouteSettings. */
  routeThrottling?: Record<string, { rateLimit?: number; burstLimit?: number }>;
  routes: LocalRoute[];
}

export interface LocalEventTarget {
  kind: 'stateMachine' | 'function';
  logicalId: string;
  arn: string;
  /** Target Input: constant JSON delivered instead of the event. */
  input?: unknown;
  /** Target InputPath: the part of the event delivered, e.g. `$.detail`. */
  inputPath?: string;
}

export interface LocalEventRule {
  logicalId: string;
  busName: string;
  pattern: Record<string, unknown>;
  targets: LocalEventTarget[];
}

export interface LocalEventBus {
  logicalId: string;
  name: string;
  arn: string;
}

export interface LocalStateMachine {
  logicalId: string;
  name: string;
  arn: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: Record<string, unknown>;
}

export interface LocalTemplate {
  readonly path: string;
  readonly dir: string;
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** The parsed template with short forms turned into long forms, nothing resolved. */
  readonly raw: Record<string, unknown>;
  resolve(value: unknown, path?: string): unknown;
  parameter(name: string): string | string[];
  functions(): LocalFunction[];
  tables(): LocalTable[];
  webSocketApis(): LocalWebSocketApi[];
  eventRules(): LocalEventRule[];
  eventBuses(): LocalEventBus[];
  stateMachines(): LocalStateMachine[];
  /** Logical ids of the resources whose Condition holds, optionally of one type (local IAM finds principals). */
  resourceIds(type?: string): string[];
  /** What `Ref` returns for a resource: the local stand-in of its physical id. */
  physicalId(logicalId: string): unknown;
}

type Obj = Record<string, unknown>;

interface Resource {
  Type: string;
  Properties: Obj;
  Metadata?: Obj;
  Condition?: string;
}

// ------------------------------------------------------------------ YAML short forms

const SHORT_FORMS = [
  'Ref',
  'Condition',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'FindInMap',
  'Base64',
  'GetAZs',
  'ImportValue',
  'Cidr',
  'Length',
  'ToJsonString',
  'Transform',
];

function longForm(short: string): string {
  return short === 'Ref' || short === 'Condition' ? short : `Fn::${short}`;
}

/** One tag per node kind: the yaml package picks a tag by tag name and collection type. */
function cfnTags(): (ScalarTag | CollectionTag)[] {
  const tags: (ScalarTag | CollectionTag)[] = [];
  for (const short of SHORT_FORMS) {
    const key = longForm(short);
    tags.push({
      tag: `!${short}`,
      identify: () => false,
      // `!GetAtt A.B` is the string form of `Fn::GetAtt: [A, B]`; the attribute itself may contain dots.
      resolve: (text: string) => ({ [key]: short === 'GetAtt' ? splitGetAtt(text) : text }),
    });
    for (const collection of ['map', 'seq'] as const) {
      tags.push({
        tag: `!${short}`,
        collection,
        identify: () => false,
        // Wrap the node (not its JS value) so that nested short forms and anchors resolve in doc.toJS().
        resolve: (node) => {
          const map = new YAMLMap();
          map.items.push(new Pair(new Scalar(key), node));
          return map;
        },
      });
    }
  }
  return tags;
}

function splitGetAtt(text: string): string[] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text] : [text.slice(0, dot), text.slice(dot + 1)];
}

// ------------------------------------------------------------------ helpers

const NO_VALUE = Symbol('AWS::NoValue');

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intrinsicKey(value: Obj): string | undefined {
  const keys = Object.keys(value);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined) return undefined;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

function str(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${path}: expected a string, got ${JSON.stringify(value)}`);
}

function list(value: unknown, path: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new Error(`${path}: expected a list, got ${JSON.stringify(value)}`);
}

function num(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${path}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

/** SAM Globals: maps merge (the resource wins), lists concatenate, scalars and intrinsics are overridden. */
function mergeGlobals(global: unknown, own: unknown): unknown {
  if (own === undefined) return global;
  if (Array.isArray(global) && Array.isArray(own)) return [...global, ...own];
  if (isObj(global) && isObj(own) && !intrinsicKey(global) && !intrinsicKey(own)) {
    const merged: Obj = { ...global };
    for (const [key, value] of Object.entries(own)) merged[key] = mergeGlobals(global[key], value);
    return merged;
  }
  return own;
}

// ------------------------------------------------------------------ loader

export function loadTemplate(path: string, opts: LoadTemplateOptions = {}): LocalTemplate {
  const templatePath = resolvePath(path);
  const doc = parseDocument(readFileSync(templatePath, 'utf8'), { customTags: cfnTags() });
  if (doc.errors.length > 0)
    throw new Error(`${templatePath}: ${doc.errors.map((e) => e.message).join('; ')}`);
  const raw = doc.toJS({ maxAliasCount: -1 }) as unknown;
  if (!isObj(raw)) throw new Error(`${templatePath}: not a template (expected a mapping)`);
  return new Template(templatePath, raw, opts);
}

class Template implements LocalTemplate {
  readonly dir: string;
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  private readonly params = new Map<string, string | string[]>();
  private readonly conditionCache = new Map<string, boolean>();
  private readonly conditionStack: string[] = [];
  private readonly resources = new Map<string, Resource>();
  private readonly physicalStack: string[] = [];

  constructor(
    readonly path: string,
    readonly raw: Obj,
    opts: LoadTemplateOptions,
  ) {
    this.dir = dirname(path);
    this.stackName = opts.stackName ?? 'roomcast-local';
    this.region = opts.region ?? 'us-east-1';
    this.accountId = opts.accountId ?? '000000000000';
    this.loadParameters(opts.parameters ?? {});
    this.loadResources();
  }

  // ---------------------------------------------------------------- parameters and conditions

  private loadParameters(given: Record<string, string>): void {
    const declared = isObj(this.raw.Parameters) ? this.raw.Parameters : {};
    const overrides = foldSettings(given, settingDefaults(this.raw));
    for (const name of Object.keys(overrides)) {
      if (!(name in declared)) throw new Error(`Parameter ${name} is not declared in ${this.path}`);
    }
    for (const [name, decl] of Object.entries(declared)) {
      if (!isObj(decl)) throw new Error(`Parameters.${name}: expected a mapping`);
      const given = overrides[name] ?? (decl.Default === undefined ? undefined : String(decl.Default));
      if (given === undefined) throw new Error(`Parameter ${name} has no Default and no value was given`);
      if (name === SETTINGS_PARAMETER && typeof decl.AllowedPattern === 'string')
        checkSettings(given, decl.AllowedPattern, settingDefaults(this.raw));
      this.params.set(name, validateParameter(name, decl, given));
    }
  }

  parameter(name: string): string | string[] {
    const value = this.params.get(name);
    const setting = settingDefaults(this.raw)[name];
    if (value === undefined && setting !== undefined)
      return settingValue(String(this.params.get(SETTINGS_PARAMETER) ?? ''), name, setting);
    if (value === undefined) throw new Error(`Parameter ${name} is not declared in ${this.path}`);
    return value;
  }

  private condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const conditions = isObj(this.raw.Conditions) ? this.raw.Conditions : {};
    if (!(name in conditions)) throw new Error(`Condition ${name} is not declared in Conditions`);
    if (this.conditionStack.includes(name)) {
      throw new Error(`Conditions: circular reference ${[...this.conditionStack, name].join(' -> ')}`);
    }
    this.conditionStack.push(name);
    try {
      const value = this.resolve(conditions[name], `Conditions.${name}`);
      if (typeof value !== 'boolean') throw new Error(`Conditions.${name}: does not evaluate to a boolean`);
      this.conditionCache.set(name, value);
      return value;
    } finally {
      this.conditionStack.pop();
    }
  }

  // ---------------------------------------------------------------- resources

  private loadResources(): void {
    const resources = this.raw.Resources;
    if (!isObj(resources)) throw new Error(`${this.path}: no Resources`);
    const globals = isObj(this.raw.Globals) ? this.raw.Globals : {};
    for (const [logicalId, value] of Object.entries(resources)) {
      if (!isObj(value) || typeof value.Type !== 'string') {
        throw new Error(`Resources.${logicalId}: expected a mapping with a Type`);
      }
      const condition = value.Condition;
      if (condition !== undefined && !this.condition(str(condition, `Resources.${logicalId}.Condition`)))
        continue;
      let properties = isObj(value.Properties) ? value.Properties : {};
      const samKind = value.Type.startsWith('AWS::Serverless::')
        ? value.Type.slice('AWS::Serverless::'.length)
        : '';
      const global = globals[samKind];
      if (isObj(global)) properties = mergeGlobals(global, properties) as Obj;
      this.resources.set(logicalId, {
        Type: value.Type,
        Properties: properties,
        Metadata: isObj(value.Metadata) ? value.Metadata : undefined,
        Condition: typeof condition === 'string' ? condition : undefined,
      });
    }
  }

  /** Logical ids of the resources whose Condition holds (local IAM finds principals by type). */
  resourceIds(type?: string): string[] {
    return [...this.resources.entries()].filter(([, r]) => !type || r.Type === type).map(([id]) => id);
  }

  private resource(logicalId: string, path: string): Resource {
    const found = this.resources.get(logicalId);
    if (found) return found;
    const declared = isObj(this.raw.Resources) && logicalId in this.raw.Resources;
    throw new Error(
      declared
        ? `${path}: resource ${logicalId} is not created (its Condition is false)`
        : `${path}: unknown resource or parameter ${logicalId}`,
    );
  }

  private prop(logicalId: string, name: string): unknown {
    const r = this.resource(logicalId, `Resources.${logicalId}`);
    const value = r.Properties[name];
    return value === undefined ? undefined : this.resolve(value, `Resources.${logicalId}.Properties.${name}`);
  }

  private nameOr(logicalId: string, property: string): string {
    const value = this.prop(logicalId, property);
    return value === undefined
      ? `${this.stackName}-${logicalId}`
      : str(value, `Resources.${logicalId}.${property}`);
  }

  /** What `Ref` returns: local stand-ins of the physical ids AWS would assign. */
  physicalId(logicalId: string): unknown {
    const r = this.resource(logicalId, `Ref ${logicalId}`);
    if (this.physicalStack.includes(logicalId)) {
      throw new Error(`Resources: circular reference ${[...this.physicalStack, logicalId].join(' -> ')}`);
    }
    this.physicalStack.push(logicalId);
    try {
      switch (r.Type) {
        case 'AWS::DynamoDB::Table':
        case 'AWS::Serverless::SimpleTable':
          return this.nameOr(logicalId, 'TableName');
        case 'AWS::Events::EventBus':
          return str(this.prop(logicalId, 'Name'), `Resources.${logicalId}.Properties.Name`);
        case 'AWS::Serverless::Function':
        case 'AWS::Lambda::Function':
          return this.nameOr(logicalId, 'FunctionName');
        case 'AWS::Serverless::StateMachine':
        case 'AWS::StepFunctions::StateMachine':
          return this.arn('states', `stateMachine:${this.stateMachineName(logicalId)}`);
        case 'AWS::ApiGatewayV2::Api':
          return `local${logicalId}`.toLowerCase();
        case 'AWS::ApiGatewayV2::Stage':
          return this.prop(logicalId, 'StageName');
        // Integrations, routes and authorizers have short random ids in AWS; the logical id stands in for them.
        case 'AWS::ApiGatewayV2::Integration':
        case 'AWS::ApiGatewayV2::Route':
        case 'AWS::ApiGatewayV2::RouteResponse':
        case 'AWS::ApiGatewayV2::IntegrationResponse':
        case 'AWS::ApiGatewayV2::Authorizer':
          return logicalId;
        case 'AWS::Logs::LogGroup':
          return this.nameOr(logicalId, 'LogGroupName');
        default:
          return `${this.stackName}-${logicalId}`;
      }
    } finally {
      this.physicalStack.pop();
    }
  }

  private stateMachineName(logicalId: string): string {
    const r = this.resource(logicalId, `Resources.${logicalId}`);
    return this.nameOr(logicalId, r.Type === 'AWS::Serverless::StateMachine' ? 'Name' : 'StateMachineName');
  }

  private arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.region}:${this.accountId}:${resource}`;
  }

  private getAtt(
    logicalId: string,
    attribute: string,
    path = `Fn::GetAtt ${logicalId}.${attribute}`,
  ): string {
    const r = this.resource(logicalId, path);
    const id = (): string => str(this.physicalId(logicalId), `Resources.${logicalId}`);
    const supported: Record<string, Record<string, () => string>> = {
      'AWS::DynamoDB::Table': { Arn: () => this.arn('dynamodb', `table/${id()}`) },
      'AWS::Serverless::SimpleTable': { Arn: () => this.arn('dynamodb', `table/${id()}`) },
      'AWS::Serverless::Function': { Arn: () => this.arn('lambda', `function:${id()}`) },
      'AWS::Lambda::Function': { Arn: () => this.arn('lambda', `function:${id()}`) },
      'AWS::Events::EventBus': { Arn: () => this.arn('events', `event-bus/${id()}`), Name: id },
      'AWS::Logs::LogGroup': { Arn: () => this.arn('logs', `log-group:${id()}:*`) },
      'AWS::Serverless::StateMachine': { Arn: id, Name: () => this.stateMachineName(logicalId) },
      'AWS::StepFunctions::StateMachine': { Arn: id, Name: () => this.stateMachineName(logicalId) },
      'AWS::CloudFront::Distribution': { DomainName: () => `${id()}.cloudfront.net` },
      'AWS::ApiGatewayV2::Api': {
        ApiId: id,
        ApiEndpoint: () => `wss://${id()}.execute-api.${this.region}.amazonaws.com`,
      },
    };
    const get = supported[r.Type]?.[attribute];
    if (!get) {
      throw new Error(`${path}: attribute ${attribute} of ${logicalId} (${r.Type}) is not supported locally`);
    }
    return get();
  }

  // ---------------------------------------------------------------- intrinsic functions

  resolve(value: unknown, path = '(value)'): unknown {
    const out = this.resolveInner(value, path);
    return out === NO_VALUE ? undefined : out;
  }

  private resolveInner(value: unknown, path: string): unknown {
    if (Array.isArray(value)) {
      return value.map((v, i) => this.resolveInner(v, `${path}[${i}]`)).filter((v) => v !== NO_VALUE);
    }
    if (!isObj(value)) return value;
    const fn = intrinsicKey(value);
    if (fn) return this.intrinsic(fn, value[fn], `${path}.${fn}`);
    const out: Obj = {};
    for (const [key, v] of Object.entries(value)) {
      const resolved = this.resolveInner(v, `${path}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private ref(name: string, path: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/${STACK_UUID}`;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const param = this.params.get(name);
    if (param !== undefined) return param;
    this.resource(name, path);
    return this.physicalId(name);
  }

  private cond(value: unknown, path: string): boolean {
    // Inside condition functions `{ Condition: Name }` refers to a named condition.
    if (isObj(value) && Object.keys(value).length === 1 && typeof value.Condition === 'string') {
      return this.condition(value.Condition);
    }
    const b = this.resolveInner(value, path);
    if (typeof b !== 'boolean') throw new Error(`${path}: expected a condition, got ${JSON.stringify(b)}`);
    return b;
  }

  private sub(template: string, vars: Obj, path: string): string {
    return template.replace(/\$\{([^}]*)\}/g, (_m, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (name in vars) return str(this.resolveInner(vars[name], `${path}.${name}`), `${path}.${name}`);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::'))
        return this.getAtt(name.slice(0, dot), name.slice(dot + 1), path);
      const value = this.ref(name, path);
      return Array.isArray(value) ? value.join(',') : str(value, `${path} \${${name}}`);
    });
  }

  private intrinsic(fn: string, arg: unknown, path: string): unknown {
    const r = (v: unknown, p = path): unknown => this.resolveInner(v, p);
    switch (fn) {
      case 'Ref':
        return this.ref(str(arg, path), path);
      case 'Fn::GetAtt': {
        const parts = typeof arg === 'string' ? splitGetAtt(arg) : list(r(arg), path);
        const [logicalId, attribute] = parts;
        if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
          throw new Error(`${path}: expected [LogicalId, Attribute]`);
        }
        return this.getAtt(logicalId, attribute, path);
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return this.sub(arg, {}, path);
        const [template, vars] = list(arg, path);
        return this.sub(str(r(template, `${path}[0]`), path), isObj(vars) ? vars : {}, `${path}[1]`);
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = list(arg, path);
        return this.condition(str(name, `${path}[0]`))
          ? r(whenTrue, `${path}[1]`)
          : r(whenFalse, `${path}[2]`);
      }
      case 'Fn::Equals': {
        const [a, b] = list(arg, path).map((v, i) => r(v, `${path}[${i}]`));
        return JSON.stringify(a) === JSON.stringify(b) || looseEqual(a, b);
      }
      case 'Fn::Not': {
        const [c] = list(arg, path);
        return !this.cond(c, `${path}[0]`);
      }
      case 'Fn::And':
        return list(arg, path).every((c, i) => this.cond(c, `${path}[${i}]`));
      case 'Fn::Select': {
        const [index, values] = list(arg, path);
        const items = list(r(values, `${path}[1]`), `${path}[1]`);
        const at = Number(r(index, `${path}[0]`));
        if (!Number.isInteger(at) || at < 0 || at >= items.length)
          throw new Error(`${path}: index ${at} is outside a list of ${items.length}`);
        return items[at];
      }
      case 'Fn::Split': {
        const [delimiter, source] = list(arg, path);
        return str(r(source, `${path}[1]`), `${path}[1]`).split(str(delimiter, `${path}[0]`));
      }
      case 'Fn::FindInMap': {
        const [map = '', top = '', second = ''] = list(arg, path).map((v, i) =>
          str(r(v, `${path}[${i}]`), `${path}[${i}]`),
        );
        const mappings = isObj(this.raw.Mappings) ? this.raw.Mappings : {};
        const level = isObj(mappings[map]) ? mappings[map][top] : undefined;
        const value = isObj(level) ? level[second] : undefined;
        if (value === undefined) throw new Error(`${path}: Mappings.${map}.${top}.${second} is not declared`);
        return value;
      }
      default:
        throw new Error(`${path}: ${fn} is not supported by the local cloud`);
    }
  }

  // ---------------------------------------------------------------- accessors

  functions(): LocalFunction[] {
    const types = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);
    return this.resourceIds()
      .filter((id) => types.has(this.resources.get(id)?.Type ?? ''))
      .map((id) => this.fn(id));
  }

  private fn(logicalId: string): LocalFunction {
    const r = this.resource(logicalId, `Resources.${logicalId}`);
    const path = `Resources.${logicalId}.Properties`;
    // Only what running the function needs: Policies or Events may use attributes the local cloud lacks.
    const props: Obj = {};
    const keys = [
      'Handler',
      'CodeUri',
      'Runtime',
      'Timeout',
      'MemorySize',
      'ReservedConcurrentExecutions',
      'Environment',
    ];
    for (const key of keys) {
      props[key] = this.prop(logicalId, key);
    }
    const name = str(this.physicalId(logicalId), path);
    const handler = str(props.Handler, `${path}.Handler`);
    const codeUri = typeof props.CodeUri === 'string' ? props.CodeUri : '.';
    const env =
      isObj(props.Environment) && isObj(props.Environment.Variables) ? props.Environment.Variables : {};
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(env))
      environment[key] = str(value, `${path}.Environment.Variables.${key}`);
    return {
      logicalId,
      name,
      arn: this.getAtt(logicalId, 'Arn'),
      handler,
      codeUri,
      entryPoint: this.entryPoint(r, codeUri, handler),
      runtime: typeof props.Runtime === 'string' ? props.Runtime : undefined,
      timeoutSeconds: num(props.Timeout, 3, `${path}.Timeout`),
      memoryMb: num(props.MemorySize, 128, `${path}.MemorySize`),
      ...(props.ReservedConcurrentExecutions !== undefined && {
        reservedConcurrency: num(
          props.ReservedConcurrentExecutions,
          0,
          `${path}.ReservedConcurrentExecutions`,
        ),
      }),
      environment,
    };
  }

  private entryPoint(r: Resource, codeUri: string, handler: string): string {
    const build = isObj(r.Metadata?.BuildProperties) ? r.Metadata.BuildProperties : {};
    const [entry] = Array.isArray(build.EntryPoints) ? build.EntryPoints : [];
    if (typeof entry === 'string') return join(this.dir, codeUri, entry);
    // Without esbuild metadata the handler names the module: `dir/index.handler` -> dir/index.{ts,js,...}.
    const module = join(this.dir, codeUri, handler.slice(0, handler.lastIndexOf('.')));
    const found = ['.ts', '.js', '.mjs', '.cjs'].map((ext) => module + ext).find((file) => existsSync(file));
    return found ?? `${module}.js`;
  }

  tables(): LocalTable[] {
    const out: LocalTable[] = [];
    for (const logicalId of this.resourceIds()) {
      const type = this.resources.get(logicalId)?.Type;
      const path = `Resources.${logicalId}.Properties`;
      if (type === 'AWS::DynamoDB::Table') {
        out.push(this.table(logicalId, this.resolve(this.resources.get(logicalId)?.Properties, path) as Obj));
      } else if (type === 'AWS::Serverless::SimpleTable') {
        const props = this.resolve(this.resources.get(logicalId)?.Properties, path) as Obj;
        const key = isObj(props.PrimaryKey) ? props.PrimaryKey : {};
        const attr = typeof key.Name === 'string' ? key.Name : 'id';
        const attrType = ({ String: 'S', Number: 'N', Binary: 'B' } as const)[String(key.Type ?? 'String')];
        out.push({
          logicalId,
          TableName: str(this.physicalId(logicalId), path),
          AttributeDefinitions: [{ AttributeName: attr, AttributeType: attrType ?? 'S' }],
          KeySchema: [{ AttributeName: attr, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        });
      }
    }
    return out;
  }

  private table(logicalId: string, props: Obj): LocalTable {
    const path = `Resources.${logicalId}.Properties`;
    const billing = props.BillingMode === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
    // dynalite accepts PAY_PER_REQUEST; PROVISIONED needs throughput, which CloudFormation also requires.
    const throughput = (value: unknown) =>
      billing === 'PROVISIONED'
        ? {
            ProvisionedThroughput: {
              ReadCapacityUnits: num(isObj(value) ? value.ReadCapacityUnits : undefined, 5, path),
              WriteCapacityUnits: num(isObj(value) ? value.WriteCapacityUnits : undefined, 5, path),
            },
          }
        : {};
    const gsis = Array.isArray(props.GlobalSecondaryIndexes)
      ? (props.GlobalSecondaryIndexes as Obj[])
      : undefined;
    const lsis = Array.isArray(props.LocalSecondaryIndexes)
      ? (props.LocalSecondaryIndexes as Obj[])
      : undefined;
    const ttl = isObj(props.TimeToLiveSpecification) ? props.TimeToLiveSpecification : {};
    return {
      logicalId,
      TableName: str(this.physicalId(logicalId), path),
      AttributeDefinitions: list(
        props.AttributeDefinitions,
        `${path}.AttributeDefinitions`,
      ) as AttributeDefinition[],
      KeySchema: list(props.KeySchema, `${path}.KeySchema`) as KeySchemaElement[],
      BillingMode: billing,
      ...throughput(props.ProvisionedThroughput),
      ...(gsis && {
        GlobalSecondaryIndexes: gsis.map(
          (g): GlobalSecondaryIndex => ({
            IndexName: String(g.IndexName),
            KeySchema: g.KeySchema as KeySchemaElement[],
            Projection: g.Projection as Projection,
            ...throughput(g.ProvisionedThroughput),
          }),
        ),
      }),
      ...(lsis && {
        LocalSecondaryIndexes: lsis.map(
          (l): LocalSecondaryIndex => ({
            IndexName: String(l.IndexName),
            KeySchema: l.KeySchema as KeySchemaElement[],
            Projection: l.Projection as Projection,
          }),
        ),
      }),
      ...(ttl.Enabled === true &&
        typeof ttl.AttributeName === 'string' && { ttlAttribute: ttl.AttributeName }),
    };
  }

  /** Maps physical ids (and ARNs) of the resources of the given types back to logical ids. */
  private byPhysical(types: string[], how: (logicalId: string) => string): Map<string, string> {
    const map = new Map<string, string>();
    for (const id of this.resourceIds()) {
      if (types.includes(this.resources.get(id)?.Type ?? '')) map.set(how(id), id);
    }
    return map;
  }

  private functionIn(text: string, path: string): string {
    const arns = this.byPhysical(['AWS::Serverless::Function', 'AWS::Lambda::Function'], (id) =>
      this.getAtt(id, 'Arn'),
    );
    // Longest ARN first so that `...:function:a-b` is not taken for `...:function:a`.
    const sorted = [...arns.keys()].sort((a, b) => b.length - a.length);
    const hit = sorted.find((arn) => text === arn || text.includes(`${arn}/`) || text.endsWith(arn));
    if (!hit) throw new Error(`${path}: ${text} does not invoke a function of this template`);
    return arns.get(hit) as string;
  }

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

  private route(logicalId: string, hasRouteResponse: boolean): LocalRoute {
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
  private mockResponse(integration: string): string {
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

  private authorizer(physical: string): { functionLogicalId: string; identitySource: string[] } {
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

  eventRules(): LocalEventRule[] {
    const targets = new Map<string, { kind: LocalEventTarget['kind']; logicalId: string }>();
    for (const fn of this.functions()) targets.set(fn.arn, { kind: 'function', logicalId: fn.logicalId });
    for (const id of this.stateMachineIds()) {
      targets.set(str(this.physicalId(id), id), { kind: 'stateMachine', logicalId: id });
    }
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
        throw new Error(`${path}: target ${String(arn)} is not a function or state machine of this template`);
      return {
        ...found,
        arn: str(arn, path),
        ...(extra.Input !== undefined && { input: JSON.parse(str(extra.Input, `${path}.Input`)) as unknown }),
        ...(typeof extra.InputPath === 'string' && { inputPath: extra.InputPath }),
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
            ['Arn', 'Input', 'InputPath'],
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
        const keys = ['EventBusName', 'Pattern', 'State', 'Enabled', 'Input', 'InputPath'];
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

  /** Resolves only the given keys: the others (roles, retry policies...) may use attributes the local cloud lacks. */
  private pick(value: unknown, keys: string[], path: string): Obj {
    const out: Obj = {};
    if (!isObj(value)) return out;
    for (const key of keys) {
      if (value[key] !== undefined) out[key] = this.resolve(value[key], `${path}.${key}`);
    }
    return out;
  }

  private stateMachineIds(): string[] {
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

  private definitionText(logicalId: string, sam: boolean, path: string): string {
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

/** CloudFormation compares condition operands as strings: `!Equals [!Ref Count, 3]` holds for '3'. */
function looseEqual(a: unknown, b: unknown): boolean {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  return scalar(a) && scalar(b) && String(a) === String(b);
}

function validateParameter(name: string, decl: Obj, value: string): string | string[] {
  const type = typeof decl.Type === 'string' ? decl.Type : 'String';
  const fail = (why: string): never => {
    throw new Error(`Parameter ${name}: value ${JSON.stringify(value)} ${why}`);
  };
  const isList = type === 'CommaDelimitedList' || type.startsWith('List<');
  const values = isList ? value.split(',').map((v) => v.trim()) : [value];
  for (const v of values) {
    if (Array.isArray(decl.AllowedValues) && !decl.AllowedValues.map(String).includes(v)) {
      fail(`is not one of the AllowedValues ${decl.AllowedValues.join(', ')}`);
    }
    if (typeof decl.AllowedPattern === 'string' && !new RegExp(`^(?:${decl.AllowedPattern})$`).test(v)) {
      fail(`does not match AllowedPattern ${decl.AllowedPattern}`);
    }
    if (type === 'Number' || type === 'List<Number>') {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) fail('is not a number');
      if (decl.MinValue !== undefined && n < Number(decl.MinValue))
        fail(`is below MinValue ${decl.MinValue}`);
      if (decl.MaxValue !== undefined && n > Number(decl.MaxValue))
        fail(`is above MaxValue ${decl.MaxValue}`);
    }
    if (decl.MinLength !== undefined && v.length < Number(decl.MinLength))
      fail(`is shorter than MinLength ${decl.MinLength}`);
    if (decl.MaxLength !== undefined && v.length > Number(decl.MaxLength))
      fail(`is longer than MaxLength ${decl.MaxLength}`);
  }
  return isList ? values : value;
}
