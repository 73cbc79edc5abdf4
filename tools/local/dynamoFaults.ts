// DynamoDB faults for the local cloud: a small HTTP proxy in front of dynalite that answers a share of requests
// 400 ProvisionedThroughputExceededException, as DynamoDB does when a partition is hot, and a share of writes as if
// another transaction held their item (the local DynamoDB refuses real conflicts too; this makes them frequent). A
// single write meets TransactionConflictException on AWS only while a transaction holds its item, so the local cloud's
// proxy (transactedTablesOnly) answers so only writes to a table some transaction has written: the fan-out's cursor,
// which no transaction writes, never sees one. The
// functions reach DynamoDB through it (AWS_ENDPOINT_URL_DYNAMODB), so their SDK retries and error handling run
// exactly as on AWS.
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DynamoFaultProxy {
  endpoint: string;
  /** Share 0..1 of requests answered with a throttling error from now on. */
  setThrottle(share: number): void;
  /**
   * Share 0..1 of writes answered as conflicting with another transaction from now on: a transaction is cancelled with
   * the reason `TransactionConflict` on its first item, a PutItem, UpdateItem or DeleteItem fails with
   * TransactionConflictException (docs/PARITY.md, "Local DynamoDB transactions") when its table is one a transaction
   * has written.
   */
  setConflict(share: number): void;
  /**
   * Holds every request naming one of `tables` (a single call's TableName, a batch's RequestItems, a transaction's
   * items) unanswered until the hold is lifted (an empty list), as a table whose partition stalls would: the caller
   * waits, then is answered. Shows which paths wait on a table.
   */
  setHold(tables: readonly string[]): void;
  stats(): { requests: number; throttled: number; conflicts: number; held: number };
  close(): Promise<void>;
}

function checkShare(share: number, what = 'faultDynamoThrottle'): number {
  if (!(share >= 0 && share <= 1)) throw new Error(`${what} must be within 0..1, got ${share}`);
  return share;
}

const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

/** The tables a TransactWriteItems body writes (Put, Update, Delete, ConditionCheck), none when it is not JSON. */
function transactionTables(body: Buffer): string[] {
  try {
    const items = (
      JSON.parse(body.toString('utf8')) as { TransactItems?: Record<string, { TableName?: unknown }>[] }
    ).TransactItems;
    if (!Array.isArray(items)) return [];
    return items.flatMap((item) =>
      Object.values(item ?? {})
        .map((action) => action?.TableName)
        .filter((name): name is string => typeof name === 'string'),
    );
  } catch {
    return [];
  }
}

/** Every table a request names: TableName, a batch's RequestItems, a transaction's items. */
function requestTables(body: Buffer): string[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { TableName?: unknown; RequestItems?: unknown };
    const batch =
      parsed.RequestItems && typeof parsed.RequestItems === 'object' ? Object.keys(parsed.RequestItems) : [];
    return [
      ...(typeof parsed.TableName === 'string' ? [parsed.TableName] : []),
      ...batch,
      ...transactionTables(body),
    ];
  } catch {
    return [];
  }
}

/** The table a single write names, undefined when its body is not JSON. */
function writeTable(body: Buffer): string | undefined {
  try {
    const name = (JSON.parse(body.toString('utf8')) as { TableName?: unknown }).TableName;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** What DynamoDB answers a write that meets an ongoing transaction on its item; undefined for other requests. */
function conflictAnswer(operation: string | undefined, body: Buffer): Record<string, unknown> | undefined {
  if (operation === 'TransactWriteItems') {
    let count = 1;
    try {
      const items = (JSON.parse(body.toString('utf8')) as { TransactItems?: unknown[] }).TransactItems;
      if (Array.isArray(items) && items.length > 0) count = items.length;
    } catch {
      // A body that is not JSON gets the conflict on one item; the request would have failed anyway.
    }
    const reasons = Array.from({ length: count }, (_, i) =>
      i === 0
        ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
        : { Code: 'None' },
    );
    return {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
      CancellationReasons: reasons,
    };
  }
  if (operation && SINGLE_WRITES.has(operation))
    return {
      __type: 'com.amazonaws.dynamodb.v20120810#TransactionConflictException',
      message: 'Transaction is ongoing for the item',
    };
  return undefined;
}

export async function startDynamoFaultProxy(opts: {
  target: string;
  host: string;
  throttle?: number;
  conflict?: number;
  /** Single writes meet injected conflicts only in the tables some transaction has written through this proxy. */
  transactedTablesOnly?: boolean;
}): Promise<DynamoFaultProxy> {
  const target = new URL(opts.target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let share = checkShare(opts.throttle ?? 0);
  let conflict = checkShare(opts.conflict ?? 0, 'faultDynamoConflict');
  let requests = 0;
  let throttled = 0;
  let conflicts = 0;
  let holding = new Set<string>();
  let held = 0;
  /** Requests held, each forwarded once its tables' hold is lifted. */
  let waiting: { tables: string[]; go: () => void }[] = [];
  /** The tables some transaction has written: the only ones whose single writes can meet one. */
  const transacted = new Set<string>();
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  };
  const server = createServer((req, res) => {
    requests++;
    if (share > 0 && Math.random() < share) {
      throttled++;
      req.resume();
      const body = JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message:
          'The level of configured provisioned throughput for the table was exceeded (local cloud fault injection).',
      });
      res.writeHead(400, {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': Buffer.byteLength(body),
        'x-amzn-RequestId': `throttle-${throttled}`,
      });
      res.end(body);
      return;
    }
    const operation = /\.([A-Za-z]+)$/.exec(String(req.headers['x-amz-target'] ?? ''))?.[1];
    // A transaction's body is always read, for its tables; a single write only while conflicts are injected; any
    // request while a table is held.
    const transaction = operation === 'TransactWriteItems';
    const hold = holding.size > 0;
    if (!operation || !(hold || transaction || (conflict > 0 && SINGLE_WRITES.has(operation))))
      return forward(req, res);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tables = hold ? requestTables(body) : [];
      if (tables.some((table) => holding.has(table))) {
        held++;
        waiting.push({ tables, go: () => forward(req, res, body) });
        return;
      }
      if (!(transaction || (conflict > 0 && SINGLE_WRITES.has(operation)))) return forward(req, res, body);
      if (transaction) for (const table of transactionTables(body)) transacted.add(table);
      const canConflict = transaction || !opts.transactedTablesOnly || transacted.has(writeTable(body) ?? '');
      const refusal = canConflict && Math.random() < conflict ? conflictAnswer(operation, body) : undefined;
      if (!refusal) return forward(req, res, body);
      conflicts++;
      const text = JSON.stringify(refusal);
      res.writeHead(400, {
        'Content-Type': 'application/x-amz-json-1.0',
        'Content-Length': Buffer.byteLength(text),
        'x-amzn-RequestId': `conflict-${conflicts}`,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    setThrottle: (next) => {
      share = checkShare(next);
    },
    setConflict: (next) => {
      conflict = checkShare(next, 'faultDynamoConflict');
    },
    setHold: (tables) => {
      holding = new Set(tables);
      const still = waiting.filter((w) => w.tables.some((table) => holding.has(table)));
      for (const w of waiting) if (!still.includes(w)) w.go();
      waiting = still;
    },
    stats: () => ({ requests, throttled, conflicts, held }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
