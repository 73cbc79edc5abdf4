import { createServer, type RequestListener, type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** How long the rest of a refused request is read before its socket is closed anyway. */
const DRAIN_MS = 2_000;

/**
 * The stage's HTTP server. A request Node's HTTP parser refuses (a URL or headers over its 16 KB limit, a malformed
 * request line) is answered 431 or 400, as API Gateway refuses one, and the rest of what the client sent is read and
 * dropped before the socket closes: closing a socket with unread bytes resets the connection, and a client that sees
 * the reset first (Node 24's HTTP server closes at once) gets a bare 1006 instead of the status.
 */
export function gatewayServer(listener: RequestListener): Server {
  const server = createServer(listener);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    socket.on('error', () => {});
    if (error.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
    socket.resume();
    setTimeout(() => socket.destroy(), DRAIN_MS).unref();
  });
  return server;
}
