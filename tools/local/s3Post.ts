// A browser form upload signed as a presigned POST (SigV4 over the base64 policy), checked in the order S3 checks
// it: the form, the signature, the policy's expiration, every condition (exact, `eq`, `starts-with`,
// `content-length-range`), no form field the policy does not name, then the signer's s3:PutObject on the key.
import type { IncomingMessage } from 'node:http';
import { accessDenied, MAX_POST_BYTES, readBody, S3Error, signatureMismatch, unknownKey } from './s3Errors';
import { hmac, parseCredential, type Signers, sameSignature, signingKey } from './s3Signing';
import type { ObjectStore, S3Object } from './s3Store';

/** The content headers a POST form sets on the object it stores (S3's POST Object form fields). */
const CONTENT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'expires'] as const;

type PolicyCondition = Record<string, unknown> | unknown[];

/** What a POST needs of the local S3: the signature check's parts, the local IAM's verdict and the objects. */
export interface PostContext {
  signers: Signers;
  /** May the key's holder do `action` on `resource`? The refusal's message, or undefined when allowed. */
  authorize(accessKeyId: string, action: string, resource: string): Promise<string | undefined>;
  store: ObjectStore;
}

const missingField = (name: string, extra: Record<string, string> = {}) =>
  new S3Error(
    400,
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    { ArgumentName: name, ...extra },
  );

/** The form's fields before its file (by lower-case name; S3 ignores those after it) and the file, if any. */
async function readForm(req: IncomingMessage): Promise<{ fields: Map<string, string>; file?: File }> {
  const contentType = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(contentType))
    throw new S3Error(
      412,
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      {
        Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
      },
    );
  const raw = await readBody(req, MAX_POST_BYTES);
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new S3Error(
      400,
      'MalformedPOSTRequest',
      'The body of your POST request is not well-formed multipart/form-data.',
    );
  }
  const fields = new Map<string, string>();
  for (const [name, value] of form.entries()) {
    if (name.toLowerCase() === 'file')
      return { fields, file: typeof value === 'string' ? new File([value], '') : value };
    if (typeof value === 'string') fields.set(name.toLowerCase(), value);
  }
  return { fields };
}

/** The policy the form carries and the key that signed it, or S3's refusal of the signature's fields. */
function signedPolicy(
  signers: Signers,
  fields: Map<string, string>,
): { policy: string; accessKeyId: string } {
  const policy = fields.get('policy');
  // Anonymous POSTs would need a bucket policy granting everyone PutObject: none of the template's buckets has one.
  if (policy === undefined) throw accessDenied();
  for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'])
    if (!fields.has(name)) throw missingField(name);
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256')
    throw new S3Error(400, 'InvalidArgument', 'Unsupported algorithm', { ArgumentName: 'x-amz-algorithm' });
  const credential = parseCredential(fields.get('x-amz-credential') as string);
  if (!credential)
    throw new S3Error(400, 'InvalidArgument', 'Invalid argument.', { ArgumentName: 'x-amz-credential' });
  const secret = signers.secretOf(credential.accessKeyId);
  if (secret === undefined) throw unknownKey();
  if (credential.region !== signers.region)
    throw new S3Error(
      400,
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${credential.region}' is wrong; expecting '${signers.region}'`,
      { Region: signers.region },
    );
  const computed = hmac(signingKey(secret, credential.day, credential.region), policy).toString('hex');
  if (!sameSignature(computed, fields.get('x-amz-signature') as string)) throw signatureMismatch();
  return { policy, accessKeyId: credential.accessKeyId };
}

/** The conditions of a base64 policy document that has not expired, or S3's refusal of the document. */
function policyConditions(policy: string, now: number): PolicyCondition[] {
  let document: { expiration?: unknown; conditions?: unknown };
  try {
    document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
  } catch {
    throw new S3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
  }
  const expiration = typeof document.expiration === 'string' ? Date.parse(document.expiration) : Number.NaN;
  if (Number.isNaN(expiration))
    throw new S3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Policy missing expiration.');
  if (expiration < now)
    throw new S3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  return Array.isArray(document.conditions) ? (document.conditions as PolicyCondition[]) : [];
}

const conditionFailed = (condition: PolicyCondition) =>
  new S3Error(
    403,
    'AccessDenied',
    `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition).replace(/,/g, ', ')}`,
  );
const invalidCondition = (condition: PolicyCondition) =>
  new S3Error(
    400,
    'InvalidPolicyDocument',
    `Invalid Policy: Invalid Condition: ${JSON.stringify(condition)}`,
  );

/** The file's size within a `content-length-range` condition's bounds, or S3's refusal. */
function checkSize(size: number, [min, max]: [number, number]): void {
  if (size > max)
    throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: size,
      MaxSizeAllowed: max,
    });
  if (size < min)
    throw new S3Error(
      400,
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed size',
      {
        ProposedSize: size,
        MinSizeAllowed: min,
      },
    );
}

/** Checks one list condition (`eq`, `starts-with`, `content-length-range`): the field it names, if any. */
function checkListCondition(
  condition: unknown[],
  values: Map<string, string>,
  size: number,
): string | undefined {
  const [op, target, expected] = condition as [string, unknown, unknown];
  if (String(op).toLowerCase() === 'content-length-range') {
    checkSize(size, [Number(target), Number(expected)]);
    return undefined;
  }
  if (typeof target !== 'string' || !target.startsWith('$') || typeof expected !== 'string')
    throw invalidCondition(condition);
  const name = target.slice(1).toLowerCase();
  const value = values.get(name) ?? '';
  const holds =
    String(op).toLowerCase() === 'eq'
      ? value === expected
      : String(op).toLowerCase() === 'starts-with'
        ? value.startsWith(expected)
        : undefined;
  if (holds === undefined) throw invalidCondition(condition);
  if (!holds) throw conditionFailed(condition);
  return name;
}

/** Each condition holds over the form (the bucket as the URL names it), and each field is named by some condition. */
function checkConditions(
  conditions: PolicyCondition[],
  fields: Map<string, string>,
  bucketName: string,
  size: number,
): void {
  const values = new Map(fields);
  values.set('bucket', bucketName);
  const covered = new Set<string>(['bucket']);
  for (const condition of conditions) {
    if (Array.isArray(condition)) {
      const name = checkListCondition(condition, values, size);
      if (name !== undefined) covered.add(name);
    } else if (condition && typeof condition === 'object') {
      for (const [rawName, expected] of Object.entries(condition)) {
        const name = rawName.toLowerCase();
        covered.add(name);
        if ((values.get(name) ?? '') !== expected) throw conditionFailed(condition);
      }
    }
  }
  const extra = [...fields.keys()].filter(
    (name) =>
      !covered.has(name) && !['policy', 'x-amz-signature'].includes(name) && !name.startsWith('x-ignore-'),
  );
  if (extra.length > 0)
    throw new S3Error(
      403,
      'AccessDenied',
      `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`,
    );
}

/** A presigned POST to `bucketName`, checked as S3 checks it, then stored: the key and the version stored. */
export async function postObject(
  context: PostContext,
  bucketName: string,
  req: IncomingMessage,
): Promise<{ key: string; object: S3Object }> {
  const { fields, file } = await readForm(req);
  const key = fields.get('key');
  if (key === undefined) throw missingField('key', { ArgumentValue: '' });
  if (!file)
    throw new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.', {
      ArgumentName: 'file',
      ArgumentValue: '0',
    });
  const { policy, accessKeyId } = signedPolicy(context.signers, fields);
  checkConditions(policyConditions(policy, context.signers.now()), fields, bucketName, file.size);
  const refusal = await context.authorize(accessKeyId, 's3:PutObject', `arn:aws:s3:::${bucketName}/${key}`);
  if (refusal !== undefined) throw accessDenied();
  const body = Buffer.from(await file.arrayBuffer());
  const headers = Object.fromEntries(
    CONTENT_HEADERS.flatMap((name) => {
      const value = fields.get(name);
      return value === undefined ? [] : [[name, value] as const];
    }),
  );
  const contentType = fields.get('content-type') ?? 'binary/octet-stream';
  return { key, object: context.store.store(bucketName, key, body, contentType, headers) };
}
