// Requests Node's HTTP parser refuses before express sees them (oversized headers, malformed
// request lines, header timeouts): answered as JSON like every other error, not Node's empty
// default body.
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiError, ApiErrorCode } from '../../shared/api.js';

const PARSER_ERRORS: Record<string, [number, string, ApiErrorCode, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large', 'the request headers are larger than the engine accepts'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'payload_too_large', 'chunk extensions too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout', 'the request did not arrive in time'],
};

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const [status, text, code, message] = PARSER_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'bad_request', `malformed HTTP request (${err.code ?? err.message})`];
    const body = JSON.stringify({ error: { code, message } } satisfies ApiError);
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
