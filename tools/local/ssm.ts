// Parameter Store for the local cloud: GetParameter, GetParameters and PutParameter over AWS JSON 1.1, as the real
// @aws-sdk/client-ssm calls them, for the parameters the local cloud holds: the token secret of the authorizer and
// the template's AWS::SSM::Parameter resources (the runtime settings' document among them, which `npm run settings`
// rewrites with PutParameter).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RequestGuard, sendAmzJson } from './http';

export interface LocalParameter {
  name: string;
  value: string;
  type?: 'String' | 'StringList' | 'SecureString';
}

export interface LocalSsmOptions {
  region: string;
  accountId: string;
  parameters: LocalParameter[];
  /** Checks the caller (the local cloud's IAM): it may run `action` on every parameter ARN. */
  guard?: RequestGuard;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_BODY_BYTES = 64 * 1024;
const OPERATIONS: Record<string, string> = {
  'AmazonSSM.GetParameter': 'ssm:GetParameter',
  'AmazonSSM.GetParameters': 'ssm:GetParameters',
  'AmazonSSM.PutParameter': 'ssm:PutParameter',
};
/** A standard-tier parameter's value is at most 4 KB (AWS Systems Manager quotas). */
const MAX_STANDARD_VALUE_BYTES = 4096;
const TYPES = ['String', 'StringList', 'SecureString'];

export function createLocalSsm(opts: LocalSsmOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const loaded = Date.now() / 1000;
  const store = new Map(opts.parameters.map((p) => [p.name, { ...p, version: 1, modified: loaded }]));
  // A name with a leading slash keeps it in the ARN only once: `parameter/roomcast/auth-secret`.
  const arnOf = (name: string) =>
    `arn:aws:ssm:${opts.region}:${opts.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

  const send = sendAmzJson;

  const describe = (p: LocalParameter & { version: number; modified: number }, decrypt: boolean) => ({
    Name: p.name,
    Type: p.type ?? 'SecureString',
    // Without WithDecryption a SecureString comes back encrypted; the local stand-in is not the value.
    Value:
      (p.type ?? 'SecureString') === 'SecureString' && !decrypt
        ? Buffer.from(p.value).toString('base64')
        : p.value,
    Version: p.version,
    LastModifiedDate: p.modified,
    ARN: arnOf(p.name),
    DataType: 'text',
  });

  /** PutParameter as AWS answers it: an existing name needs Overwrite, a new one a Type; Standard tier's limits. */
  const put = (res: ServerResponse, input: Obj) => {
    const { Name: name, Value: value, Type: type } = input;
    if (typeof name !== 'string' || name === '' || typeof value !== 'string' || value === '')
      return send(res, 400, {
        __type: 'ValidationException',
        message: 'Name and Value must be non-empty strings',
      });
    if (Buffer.byteLength(value) > MAX_STANDARD_VALUE_BYTES)
      return send(res, 400, {
        __type: 'ValidationException',
        message: `Standard tier parameters support a maximum parameter value of ${MAX_STANDARD_VALUE_BYTES} characters.`,
      });
    if (type !== undefined && !TYPES.includes(String(type)))
      return send(res, 400, { __type: 'ValidationException', message: `Type ${String(type)} is not valid` });
    const found = store.get(name);
    if (found && input.Overwrite !== true)
      return send(res, 400, {
        __type: 'ParameterAlreadyExists',
        message:
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      });
    if (!found && type === undefined)
      return send(res, 400, { __type: 'ValidationException', message: 'A new parameter needs a Type.' });
    if (found && type !== undefined && type !== (found.type ?? 'SecureString'))
      return send(res, 400, {
        __type: 'ValidationException',
        message:
          'The parameter type cannot be changed by PutParameter with Overwrite: delete and create it again.',
      });
    const version = (found?.version ?? 0) + 1;
    store.set(name, {
      name,
      value,
      type: (found?.type ?? type) as LocalParameter['type'],
      version,
      modified: Date.now() / 1000,
    });
    return send(res, 200, { Version: version, Tier: 'Standard' });
  };

  const answer = (res: ServerResponse, target: string, input: Obj) => {
    if (target === 'AmazonSSM.PutParameter') return put(res, input);
    const decrypt = input.WithDecryption === true;
    if (target === 'AmazonSSM.GetParameter') {
      const found = typeof input.Name === 'string' ? store.get(input.Name) : undefined;
      if (!found) return send(res, 400, { __type: 'ParameterNotFound', message: '' });
      return send(res, 200, { Parameter: describe(found, decrypt) });
    }
    const names = Array.isArray(input.Names)
      ? input.Names.filter((n): n is string => typeof n === 'string')
      : [];
    return send(res, 200, {
      Parameters: names.flatMap((n) => {
        const found = store.get(n);
        return found ? [describe(found, decrypt)] : [];
      }),
      InvalidParameters: names.filter((n) => !store.has(n)),
    });
  };

  return (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => {});
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = OPERATIONS[target];
      if (req.method !== 'POST' || size > MAX_BODY_BYTES || !action) {
        return send(res, 400, {
          __type: 'UnknownOperationException',
          message: `${req.method} ${target || '(no X-Amz-Target)'} is not supported by the local Parameter Store`,
        });
      }
      const body = Buffer.concat(chunks);
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8'));
      } catch (err) {
        return send(res, 400, { __type: 'SerializationException', message: (err as Error).message });
      }
      if (!isObj(input))
        return send(res, 400, { __type: 'SerializationException', message: 'Not a JSON object' });
      const request = input;
      const names = target === 'AmazonSSM.GetParameters' ? asArray(request.Names) : [request.Name];
      const resources = names.filter((n): n is string => typeof n === 'string').map(arnOf);
      if (!opts.guard) return answer(res, target, request);
      opts.guard(req, body, action, resources).then(
        (refusal) => {
          if (refusal) send(res, 400, { __type: refusal.code, message: refusal.message });
          else answer(res, target, request);
        },
        (err: Error) => send(res, 500, { __type: 'InternalServerError', message: err.message }),
      );
    });
  };
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
