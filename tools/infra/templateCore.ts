// Parameters, conditions, resources and intrinsic functions: how a template's values resolve locally.
import { dirname } from 'node:path';
import type { LoadTemplateOptions, Obj, Resource } from './templateTypes';
import {
  intrinsicKey,
  isObj,
  list,
  looseEqual,
  mergeGlobals,
  NO_VALUE,
  splitGetAtt,
  str,
  validateParameter,
} from './templateYaml';

/** The id part of the local stack's AWS::StackId (CloudFormation makes it a random UUID per stack). */
const STACK_UUID = '6f1c2a9e-0b7d-4e54-9a3c-2d8e5f7b1c40';

/**
 * A loaded template: its parameters (validated against their declarations), its conditions, its resources (SAM
 * Globals merged) and the intrinsic functions that resolve their values to what the local cloud runs with.
 */
export abstract class TemplateCore {
  readonly dir: string;
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  protected readonly params = new Map<string, string | string[]>();
  protected readonly conditionCache = new Map<string, boolean>();
  protected readonly conditionStack: string[] = [];
  protected readonly resources = new Map<string, Resource>();
  protected readonly physicalStack: string[] = [];

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

  protected loadParameters(given: Record<string, string>): void {
    const declared = isObj(this.raw.Parameters) ? this.raw.Parameters : {};
    const overrides = given;
    for (const name of Object.keys(overrides)) {
      if (!(name in declared)) throw new Error(`Parameter ${name} is not declared in ${this.path}`);
    }
    for (const [name, decl] of Object.entries(declared)) {
      if (!isObj(decl)) throw new Error(`Parameters.${name}: expected a mapping`);
      const given = overrides[name] ?? (decl.Default === undefined ? undefined : String(decl.Default));
      if (given === undefined) throw new Error(`Parameter ${name} has no Default and no value was given`);
      this.params.set(name, validateParameter(name, decl, given));
    }
  }

  parameter(name: string): string | string[] {
    const value = this.params.get(name);
    if (value === undefined) throw new Error(`Parameter ${name} is not declared in ${this.path}`);
    return value;
  }

  protected condition(name: string): boolean {
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

  protected loadResources(): void {
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

  protected resource(logicalId: string, path: string): Resource {
    const found = this.resources.get(logicalId);
    if (found) return found;
    const declared = isObj(this.raw.Resources) && logicalId in this.raw.Resources;
    throw new Error(
      declared
        ? `${path}: resource ${logicalId} is not created (its Condition is false)`
        : `${path}: unknown resource or parameter ${logicalId}`,
    );
  }

  protected prop(logicalId: string, name: string): unknown {
    const r = this.resource(logicalId, `Resources.${logicalId}`);
    const value = r.Properties[name];
    return value === undefined ? undefined : this.resolve(value, `Resources.${logicalId}.Properties.${name}`);
  }

  protected nameOr(logicalId: string, property: string): string {
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
        // A queue's Ref is its URL; its name (GetAtt QueueName) is QueueName, else generated with `.fifo` for FIFO.
        case 'AWS::SQS::Queue':
          return `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${this.queueName(logicalId)}`;
        case 'AWS::Pipes::Pipe':
        case 'AWS::SSM::Parameter':
          return this.nameOr(logicalId, 'Name');
        // A customer managed policy's Ref is its ARN (path `/`), its name generated when ManagedPolicyName is absent.
        case 'AWS::IAM::ManagedPolicy':
          return `arn:aws:iam::${this.accountId}:policy/${this.nameOr(logicalId, 'ManagedPolicyName')}`;
        // Bucket names are lower case.
        case 'AWS::S3::Bucket':
          return this.nameOr(logicalId, 'BucketName').toLowerCase();
        default:
          return `${this.stackName}-${logicalId}`;
      }
    } finally {
      this.physicalStack.pop();
    }
  }

  protected queueName(logicalId: string): string {
    const given = this.prop(logicalId, 'QueueName');
    if (given !== undefined) return str(given, `Resources.${logicalId}.Properties.QueueName`);
    const fifo = this.prop(logicalId, 'FifoQueue');
    return `${this.stackName}-${logicalId}${fifo === true || fifo === 'true' ? '.fifo' : ''}`;
  }

  protected stateMachineName(logicalId: string): string {
    const r = this.resource(logicalId, `Resources.${logicalId}`);
    return this.nameOr(logicalId, r.Type === 'AWS::Serverless::StateMachine' ? 'Name' : 'StateMachineName');
  }

  protected arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.region}:${this.accountId}:${resource}`;
  }

  protected getAtt(
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
      'AWS::SQS::Queue': {
        Arn: () => this.arn('sqs', this.queueName(logicalId)),
        QueueName: () => this.queueName(logicalId),
        QueueUrl: id,
      },
      'AWS::Pipes::Pipe': { Arn: () => this.arn('pipes', `pipe/${id()}`) },
      'AWS::S3::Bucket': {
        Arn: () => `arn:aws:s3:::${id()}`,
        RegionalDomainName: () => `${id()}.s3.${this.region}.amazonaws.com`,
      },
      'AWS::CloudFront::Distribution': { DomainName: () => `${id()}.cloudfront.net` },
      'AWS::SSM::Parameter': {
        Value: () => str(this.prop(logicalId, 'Value'), `Resources.${logicalId}.Value`),
      },
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

  protected resolveInner(value: unknown, path: string): unknown {
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

  protected ref(name: string, path: string): unknown {
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

  protected cond(value: unknown, path: string): boolean {
    // Inside condition functions `{ Condition: Name }` refers to a named condition.
    if (isObj(value) && Object.keys(value).length === 1 && typeof value.Condition === 'string') {
      return this.condition(value.Condition);
    }
    const b = this.resolveInner(value, path);
    if (typeof b !== 'boolean') throw new Error(`${path}: expected a condition, got ${JSON.stringify(b)}`);
    return b;
  }

  protected sub(template: string, vars: Obj, path: string): string {
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

  protected intrinsic(fn: string, arg: unknown, path: string): unknown {
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
}
