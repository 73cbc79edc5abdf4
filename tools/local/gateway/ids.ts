import { randomBytes } from 'node:crypto';

// AWS connection, request and message ids are 16 characters of URL-safe base64 ending in '=' (e.g.
// `JC1dgf9yoAMCK-g=`), i.e. the base64url of 11 bytes plus the padding AWS keeps. Random bytes are drawn in
// batches so an id costs no syscall on the hot path.
const ID_BYTES = 11;
const POOL_IDS = 1024;
let pool = Buffer.alloc(0);
let offset = 0;

/** A fresh AWS-style id: 16 chars of the URL-safe alphabet (`-` and `_`, never `+` or `/`), ending in '='. */
export function awsId(): string {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    offset = 0;
  }
  const id = `${pool.toString('base64url', offset, offset + ID_BYTES)}=`;
  offset += ID_BYTES;
  return id;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `requestContext.requestTime` in the common-log format AWS uses: `09/Feb/2024:18:11:43 +0000`. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const month = MONTHS[d.getUTCMonth()] ?? 'Jan';
  const time = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  return `${pad2(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${time} +0000`;
}

/** An X-Ray style trace header value, as AWS adds `X-Amzn-Trace-Id` to the $connect request. */
export function traceId(epochMs: number): string {
  const seconds = Math.floor(epochMs / 1000).toString(16);
  return `Root=1-${seconds}-${randomBytes(12).toString('hex')}`;
}
