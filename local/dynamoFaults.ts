// DynamoDB throttling for the local cloud: a small HTTP proxy in front of dynalite that answers a share of requests
// 400 ProvisionedThroughputExceededException, as DynamoDB does when a partition is hot. The functions reach DynamoDB
// through it (AWS_ENDPOINT_URL_DYNAMODB), so their SDK retries and error handling run exactly as on AWS.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DynamoFaultProxy {
  endpoint: string;
  /** Share 0..1 of requests answered with a throttling error from now on. */
  setThrottle(share: number): void;
  stats(): { requests: number; throttled: number };
  close(): Promise<void>;
}

function checkShare(share: number): number {
  if (!(share >= 0 && share <= 1)) throw new Error(`faultDynamoThrottle must be within 0..1, got ${share}`);
  return share;
}

export async function startDynamoFaultProxy(opts: {
  target: string;
  host: string;
  throttle?: number;
}): Promise<DynamoFaultProxy> {
  const target = new URL(opts.target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let share = checkShare(opts.throttle ?? 0);
  let requests = 0;
  let throttled = 0;
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
    req.pipe(upstream);
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
    stats: () => ({ requests, throttled }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
