/**
 * What the client can do below the protocol, where the WebSocket class allows it. Browsers' WebSocket (and Node 22's
 * global one) can only send whole messages and close politely; the `ws` package (Node) can also read a refused
 * handshake's HTTP answer, drop a connection at once and send one message in several frames. client/ does not import
 * `ws`: it recognises a socket with ws's API by its `terminate` and `on` methods and uses them only then.
 */
import type { SocketLike } from './types';

/** The HTTP answer to a refused handshake, as `ws` hands it over (a Node `IncomingMessage`). */
interface HttpResponseLike {
  statusCode?: number;
  on(event: 'data', listener: (chunk: Uint8Array | string) => void): unknown;
  on(event: 'end' | 'close' | 'error', listener: () => void): unknown;
}

/** The members of a `ws` socket the client uses beyond SocketLike. */
interface WsSocket extends SocketLike {
  terminate(): void;
  send(data: string | Uint8Array, options?: { binary?: boolean; fin?: boolean }): void;
  on(event: 'unexpected-response', listener: (request: unknown, response: HttpResponseLike) => void): unknown;
}

/** A refused handshake's body is kept up to this many characters: enough for any error page, bounded. */
export const REFUSAL_BODY_MAX = 4096;

function wsApi(socket: SocketLike): WsSocket | undefined {
  const s = socket as Partial<WsSocket>;
  return typeof s.terminate === 'function' && typeof s.on === 'function' ? (socket as WsSocket) : undefined;
}

/**
 * With `ws`: calls `refused` with the status and body of a handshake the server answered with anything but 101.
 * `ws` then leaves the attempt to the listener, so the caller must close the socket. Without ws, nothing: the
 * browser tells a script nothing about a refused handshake.
 */
export function onHandshakeRefused(
  socket: SocketLike,
  refused: (status: number, body: string) => void,
): void {
  wsApi(socket)?.on('unexpected-response', (_request, response) => {
    const decoder = new TextDecoder();
    let body = '';
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      refused(response.statusCode ?? 0, body.slice(0, REFUSAL_BODY_MAX));
    };
    response.on('data', (chunk) => {
      if (body.length < REFUSAL_BODY_MAX)
        body += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    });
    response.on('end', finish);
    response.on('close', finish);
    response.on('error', finish);
  });
}

/** Drops the connection without the closing handshake (ws); false when the socket cannot. */
export function terminateSocket(socket: SocketLike): boolean {
  const ws = wsApi(socket);
  ws?.terminate();
  return ws !== undefined;
}

/**
 * Sends `text` as one message in frames of at most `maxFrameBytes` bytes (ws); false when the socket cannot send a
 * message in parts. A frame may end inside a character: WebSocket checks UTF-8 over the whole message, not per frame.
 */
export function sendInFrames(socket: SocketLike, bytes: Uint8Array, maxFrameBytes: number): boolean {
  const ws = wsApi(socket);
  if (ws === undefined) return false;
  for (let at = 0; at < bytes.length; at += maxFrameBytes) {
    ws.send(bytes.subarray(at, at + maxFrameBytes), {
      binary: false,
      fin: at + maxFrameBytes >= bytes.length,
    });
  }
  return true;
}
