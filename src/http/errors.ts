import type { FastifyError, FastifyInstance } from 'fastify';
import { isForeignKeyViolation } from '../db/errors.js';
import { AppError, errorBody } from '../lib/errors.js';

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Translates everything thrown inside Fastify (ours, Ajv's, Fastify's own) into the contract's error body. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = request.principal && isForeignKeyViolation(error) ? accountGone() : toAppError(error);
    if (appError.code === 'internal_error') request.log.error({ err: error }, 'unhandled error');
    if (appError.code === 'service_unavailable') request.log.warn({ err: error }, 'backend unavailable');
    if (appError.retryAfterSeconds !== undefined) reply.header('retry-after', String(appError.retryAfterSeconds));
    return reply.status(appError.status).send(errorBody(appError));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new AppError('not_found', {
      message: `No route for ${request.method} ${request.url.split('?')[0]}.`,
    });
    return reply.status(404).send(errorBody(error));
  });
}

/**
 * An authenticated write that names its user (a product's creator, a factor, an audit event)
 * fails on the foreign key when the account was deleted after the session check was cached:
 * the caller is no longer anyone, which is a 401, not a server fault.
 */
function accountGone(): AppError {
  return new AppError('unauthorized', { message: 'The account no longer exists; sign in again.' });
}

export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(e.validation))
    return new AppError('validation_failed', { fields: validationFields(e.validation, e.validationContext) });
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_json', { message: 'The request body is empty; send a JSON object.' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json');
  }
  if (error instanceof SyntaxError && e.statusCode === 400) return new AppError('invalid_json');
  if (isConnectionFailure(error)) return new AppError('service_unavailable', { cause: error });
  if (e.statusCode === 404) return new AppError('not_found');
  if (e.statusCode === 413) return new AppError('payload_too_large');
  if (e.statusCode === 415) return new AppError('unsupported_media_type');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('validation_failed', { message: 'The request is not valid.', fields: {} });
  }
  return new AppError('internal_error', { cause: error });
}

// The database (or another backend) cannot be reached: a 503 tells clients and balancers to retry.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);

function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  return (
    error instanceof Error &&
    /driver has already been destroyed|connection (is )?closed|Pool is closed|database connection is not open/i.test(
      error.message,
    )
  );
}

function validationFields(issues: ValidationIssue[], context: string | undefined): Record<string, string> {
  // No prototype: a field named `constructor` or `__proto__` is reported like any other name.
  const fields = Object.create(null) as Record<string, string>;
  for (const issue of issues) {
    const missing = issue.keyword === 'required' ? String(issue.params?.missingProperty ?? '') : '';
    const unknown = issue.keyword === 'additionalProperties' ? String(issue.params?.additionalProperty ?? '') : '';
    const path = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const field =
      [path, missing || unknown].filter(Boolean).join('.') || (context === 'body' ? 'body' : (context ?? 'request'));
    if (fields[field] !== undefined) continue;
    fields[field] = describeIssue(issue);
  }
  return fields;
}

function describeIssue(issue: ValidationIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not allowed';
  if (issue.keyword === 'enum' && Array.isArray(issue.params?.allowedValues))
    return `must be one of: ${issue.params.allowedValues.join(', ')}`;
  if (issue.keyword === 'pattern') return 'contains characters or a format that is not allowed';
  if (issue.keyword === 'type' && issue.instancePath === '') return 'must be a JSON object';
  return issue.message ?? 'is not valid';
}
