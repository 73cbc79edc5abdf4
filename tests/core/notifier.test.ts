import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { SignatureV4 } from '@smithy/signature-v4';
import { classifyPostError, ManagementApiNotifier } from '#core/aws/notifier';
import type { PostOutcome } from '#core/ports';

/**
 * The notifier posts with one signed keep-alive POST instead of the SDK command. These tests hold it to the SDK:
 * the same request on the wire (path, body, content type, a SigV4 signature that verifies against what arrived)
 * and the same outcome for every answer the management API gives.
 */

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const REGION = 'eu-west-1';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Connection id -> [status, x-amzn-ErrorType]; 'reset' destroys the socket without an answer. */
const answers = new Map<string, [number, string?] | 'reset'>();
const seen: Seen[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const answer = answers.get(id) ?? [200];
      if (answer === 'reset') {
        req.socket.destroy();
        return;
      }
      const [status, errorType] = answer;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (errorType) headers['x-amzn-ErrorType'] = errorType;
      res.writeHead(status, headers).end(status === 200 ? '' : '{"message":"no"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  answers.clear();
});

const sdkClient = () =>
  new ApiGatewayManagementApiClient({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    // One attempt: the SDK's in-process retries are not part of the outcome compared here.
    maxAttempts: 1,
  });

/** Recomputes the SigV4 signature of a request as it arrived, from its own headers, date and body. */
async function verifies(request: Seen): Promise<boolean> {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  const date = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = String(request.headers[name]);
  const url = new URL(request.url, endpoint);
  const signer = new SignatureV4({
    credentials: CREDENTIALS,
    region: REGION,
    service: 'execute-api',
    sha256: sdkClient().config.sha256,
  });
  const again = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers,
      body: request.body,
    },
    { signingDate },
  );
  return again.headers.authorization === authorization;
}

describe('ManagementApiNotifier.post', () => {
  const payload = JSON.stringify({ type: 'message', roomId: 'ABCDEF', seq: 7, text: 'héllo, wörld' });

  it('sends what the SDK sends, signed so that the signature verifies against the request that arrived', async () => {
    const id = 'L0SM9cOFvHcCIhw=+/!';
    const notifier = new ManagementApiNotifier(sdkClient(), endpoint);
    await expect(notifier.post(id, payload)).resolves.toBe('delivered');
    await sdkClient().send(new PostToConnectionCommand({ ConnectionId: id, Data: payload }));
    const [ours, sdk] = seen as [Seen, Seen];

    expect(ours.method).toBe('POST');
    expect(ours.url).toBe(sdk.url);
    expect(ours.body).toBe(payload);
    expect(ours.headers['content-type']).toBe(sdk.headers['content-type']);
    expect(ours.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(ours.headers.authorization).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${CREDENTIALS.accessKeyId}/\\d{8}/${REGION}/execute-api/aws4_request`,
      ),
    );
    await expect(verifies(ours)).resolves.toBe(true);
    await expect(verifies(sdk)).resolves.toBe(true);
  });

  it('signs each payload with its own hash when the payload changes', async () => {
    const notifier = new ManagementApiNotifier(sdkClient(), endpoint);
    await notifier.post('a', payload);
    await notifier.post('b', '{"type":"presence"}');
    expect(seen[1]?.headers['x-amz-content-sha256']).toBe(
      createHash('sha256').update('{"type":"presence"}').digest('hex'),
    );
    await expect(verifies(seen[1] as Seen)).resolves.toBe(true);
  });

  it.each([
    [200, undefined, 'delivered'],
    [410, 'GoneException', 'gone'],
    [429, 'LimitExceededException', 'retry'],
    [500, 'InternalServerErrorException', 'retry'],
    [502, undefined, 'retry'],
    [503, 'ServiceUnavailableException', 'retry'],
    [403, 'ForbiddenException', 'failed'],
    [413, 'PayloadTooLargeException', 'failed'],
    [400, 'BadRequestException', 'failed'],
  ] as const)(
    'answers %i %s as %s, exactly as the SDK command classified',
    async (status, errorType, expected) => {
      answers.set('conn', [status, errorType]);
      const ours = await new ManagementApiNotifier(sdkClient(), endpoint).post('conn', payload);
      const sdk: PostOutcome = await sdkClient()
        .send(new PostToConnectionCommand({ ConnectionId: 'conn', Data: payload }))
        .then(
          () => 'delivered' as const,
          (error: unknown) => classifyPostError(error),
        );
      expect(ours).toBe(expected);
      expect(sdk).toBe(expected);
    },
  );

  it('answers retry when the socket is reset without an HTTP answer, as the SDK command classified', async () => {
    answers.set('conn', 'reset');
    const ours = await new ManagementApiNotifier(sdkClient(), endpoint).post('conn', payload);
    const sdk = await sdkClient()
      .send(new PostToConnectionCommand({ ConnectionId: 'conn', Data: payload }))
      .then(
        () => 'delivered' as const,
        (error: unknown) => classifyPostError(error),
      );
    expect(ours).toBe('retry');
    expect(sdk).toBe('retry');
  });

  it('posts again on a new socket when the kept-alive one was closed by the endpoint while idle', async () => {
    const notifier = new ManagementApiNotifier(sdkClient(), endpoint);
    await expect(notifier.post('a', payload)).resolves.toBe('delivered');
    // The endpoint closes the idle socket; the next post goes out before this side has read the close.
    server.closeIdleConnections();
    await expect(notifier.post('b', payload)).resolves.toBe('delivered');
    expect(seen.map((s) => s.url)).toEqual(['/prod/@connections/a', '/prod/@connections/b']);
  });

  it('answers retry without posting when credentials cannot be resolved, as the SDK command classified', async () => {
    const client = new ApiGatewayManagementApiClient({
      endpoint,
      region: REGION,
      maxAttempts: 1,
      credentials: () => Promise.reject(new Error('no credentials in this environment')),
    });
    const ours = await new ManagementApiNotifier(client, endpoint).post('conn', payload);
    const sdk = await client.send(new PostToConnectionCommand({ ConnectionId: 'conn', Data: payload })).then(
      () => 'delivered' as const,
      (error: unknown) => classifyPostError(error),
    );
    expect(ours).toBe('retry');
    expect(sdk).toBe('retry');
    expect(seen).toHaveLength(0);
  });

  it('answers retry when nothing listens at the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const notifier = new ManagementApiNotifier(sdkClient(), `http://127.0.0.1:${port}/prod`);
    await expect(notifier.post('conn', payload)).resolves.toBe('retry');
  });
});
