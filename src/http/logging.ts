import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pretty, { type PrettyStream } from 'pino-pretty';
// Logs never carry a password, token, code or secret (the HTTP contract, "Security rules").
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.code',
  '*.totp_code',
  '*.secret',
];

/** Query parameters whose values are secrets: a reset or verification link carries `token`. */
const SECRET_QUERY_PARAMS = new Set([
  'token',
  'code',
  'access_token',
  'refresh_token',
  'mfa_token',
  'totp_code',
  'password',
  'secret',
]);
const MAY_NAME_A_SECRET = /token|code|password|secret|%/i;

/**
 * `req.url` with the values of secret query parameters replaced by `[redacted]`. The mailed links
 * (/app/reset-password?token=…, /app/verify-email?token=…) are served by this server, and a URL in
 * a log is a credential in a log (OWASP Logging Cheat Sheet, "data to exclude": session ids,
 * access tokens, passwords; OWASP Forgot Password Cheat Sheet on reset URLs).
 */
export function redactSecretQuery(url: string): string {
  const question = url.indexOf('?');
  // Most logged URLs have no query, or none that could name a secret (every name above contains one
  // of these words; an escaped name contains `%`): they are returned without being taken apart.
  if (question === -1 || !MAY_NAME_A_SECRET.test(url.slice(question + 1))) return url;
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is logged as it came, only its value is judged by the raw name.
      }
      return SECRET_QUERY_PARAMS.has(name.trim().toLowerCase()) ? `${rawName}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, question)}?${query}`;
}

/** Fastify's default `req` serializer (lib/logger-pino.js) with the URL's secrets redacted. */
export function serializeRequest(req: {
  method: string;
  url: string;
  headers?: Record<string, unknown>;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}): Record<string, unknown> {
  return {
    method: req.method,
    url: redactSecretQuery(req.url),
    version: req.headers?.['accept-version'],
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Development logs for a person at a terminal: one line per request (method, path, status, time)
 * and the other events with their fields below them, so a mailed code stands out. Production and
 * tests keep pino's JSON lines, for log collectors. Written synchronously, so the lines keep their
 * order with the process's other output and none is lost at exit.
 */
export function readableLogStream(): PrettyStream {
  return pretty({
    sync: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,reqId,req,res,responseTime,mail',
    messageFormat: (log, messageKey) => {
      const req = log.req as { method?: string; url?: string } | undefined;
      const res = log.res as { statusCode?: number } | undefined;
      if (req && res && typeof log.responseTime === 'number')
        return `${req.method} ${req.url} ${res.statusCode} ${log.responseTime.toFixed(1)} ms`;
      return String(log[messageKey] ?? '');
    },
  });
}

/**
 * One log line per request, written when the answer is sent, with the request and its status
 * together, instead of Fastify's two ("incoming request", then "request completed" without the
 * path). Half the lines to read, and to write on the hot path.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error)
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
