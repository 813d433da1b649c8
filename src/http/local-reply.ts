/**
 * Local replies: responses the proxy generates itself (Envoy's `sendLocalReply`): text/plain body,
 * `content-length`, and the status and body texts Envoy uses (see src/common/errors.ts for the
 * upstream failure texts; `no healthy upstream`, `upstream request timeout`, ...).
 */
import type { ResponseHead } from './headers';

/**
 * Builds the head of a local reply with a text/plain body (Envoy's default local reply format).
 * @param body the body bytes as a latin1 string (one char per byte; a direct_response body is
 *   passed as its bytes), so `content-length` is its length.
 */
export function localReplyHead(status: number, body: string, extraHeaders?: string[]): ResponseHead {
  const headers: string[] = [];
  if (body.length > 0) headers.push('content-length', String(body.length), 'content-type', 'text/plain');
  else headers.push('content-length', '0');
  if (extraHeaders) headers.push(...extraHeaders);
  return { status, headers };
}

/** Codec error → (status, body, details) as Envoy's HTTP/1 codec reports it. */
export function codecErrorReply(errorCode: string): { status: number; body: string } {
  if (errorCode === 'HEADERS_TOO_LARGE') return { status: 431, body: 'Request Header Fields Too Large' };
  return { status: 400, body: 'Bad Request' };
}
