// Functions and tables: what the local Lambda service and DynamoDB start from.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AttributeDefinition,
  GlobalSecondaryIndex,
  KeySchemaElement,
  LocalSecondaryIndex,
  Projection,
} from '@aws-sdk/client-dynamodb';
import { TemplateCore } from './templateCore';
import type { LocalFunction, LocalTable, Obj, Resource } from './templateTypes';
import { isObj, list, num, str } from './templateYaml';

/** The template's functions and tables, with the lookups the other resources share (a function by its ARN). */
export abstract class TemplateResources extends TemplateCore {
  // ---------------------------------------------------------------- accessors

  functions(): LocalFunction[] {
    const types = new Set(['AWS::Serverless::Function', 'AWS::Lambda::Function']);
    return this.resourceIds()
      .filter((id) => types.has(this.resources.get(id)?.Type ?? ''))
      .map((id) => this.fn(id));
  }

  protected fn(logicalId: string): LocalFunction {
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
      'EventInvokeConfig',
      'DeadLetterQueue',
      'DeadLetterConfig',
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
      ...asyncInvoke(props, path),
    };
  }

  protected entryPoint(r: Resource, codeUri: string, handler: string): string {
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

  protected table(logicalId: string, props: Obj): LocalTable {
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
  protected byPhysical(types: string[], how: (logicalId: string) => string): Map<string, string> {
    const map = new Map<string, string>();
    for (const id of this.resourceIds()) {
      if (types.includes(this.resources.get(id)?.Type ?? '')) map.set(how(id), id);
    }
    return map;
  }

  protected functionIn(text: string, path: string): string {
    const arns = this.byPhysical(['AWS::Serverless::Function', 'AWS::Lambda::Function'], (id) =>
      this.getAtt(id, 'Arn'),
    );
    // Longest ARN first so that `...:function:a-b` is not taken for `...:function:a`.
    const sorted = [...arns.keys()].sort((a, b) => b.length - a.length);
    const hit = sorted.find((arn) => text === arn || text.includes(`${arn}/`) || text.endsWith(arn));
    if (!hit) throw new Error(`${path}: ${text} does not invoke a function of this template`);
    return arns.get(hit) as string;
  }
}

/**
 * A function's asynchronous invocation settings: SAM's EventInvokeConfig (MaximumRetryAttempts 0 to 2,
 * MaximumEventAgeInSeconds 60 to 21,600: Lambda API reference, PutFunctionEventInvokeConfig) and its dead-letter
 * queue, SAM's DeadLetterQueue (`Type: SQS`) or AWS::Lambda::Function's DeadLetterConfig; nothing when none is set.
 */
function asyncInvoke(props: Obj, path: string): { asyncInvoke?: NonNullable<LocalFunction['asyncInvoke']> } {
  const config = isObj(props.EventInvokeConfig) ? props.EventInvokeConfig : {};
  const ranged = (key: string, min: number, max: number): number | undefined => {
    if (config[key] === undefined) return undefined;
    const value = num(config[key], min, `${path}.EventInvokeConfig.${key}`);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`${path}.EventInvokeConfig.${key}: ${value} is not an integer from ${min} to ${max}`);
    return value;
  };
  const retries = ranged('MaximumRetryAttempts', 0, 2);
  const age = ranged('MaximumEventAgeInSeconds', 60, 21_600);
  const sam = isObj(props.DeadLetterQueue) ? props.DeadLetterQueue : undefined;
  if (sam && sam.Type !== 'SQS')
    throw new Error(`${path}.DeadLetterQueue.Type: only SQS is emulated locally`);
  const target =
    sam?.TargetArn ?? (isObj(props.DeadLetterConfig) ? props.DeadLetterConfig.TargetArn : undefined);
  const deadLetterArn = target === undefined ? undefined : str(target, `${path}.DeadLetterQueue.TargetArn`);
  if (retries === undefined && age === undefined && deadLetterArn === undefined) return {};
  return {
    asyncInvoke: {
      ...(retries !== undefined && { maximumRetryAttempts: retries }),
      ...(age !== undefined && { maximumEventAgeSeconds: age }),
      ...(deadLetterArn !== undefined && { deadLetterArn }),
    },
  };
}
