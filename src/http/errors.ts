import type { FastifyError, FastifyInstance } from 'fastify';
import { isForeignKeyViolation } from '../db/errors.js';
import { AppError, errorBody } from '../lib/errors.js';
import { NO_NUL_PATTERN, PATTERN_MESSAGE } from './schema.js';

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
  /** The schema that holds the failing keyword (Ajv's `verbose` option). */
  parentSchema?: Record<string, unknown>;
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

/**
 * The reason a person reads next to the field: Ajv's own messages ("must NOT have fewer than 3
 * characters") are written for programmers. A sentence starting with a capital stands on its own;
 * a lower-case one follows the field's name ("username is required"), as the contract's examples do.
 */
function describeIssue(issue: ValidationIssue): string {
  const params = issue.params ?? {};
  const limit = Number(params.limit);
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not allowed';
    case 'enum':
      if (Array.isArray(params.allowedValues)) return `must be one of: ${params.allowedValues.join(', ')}`;
      break;
    case 'minLength':
      return limit <= 1 ? 'is required' : `Use at least ${limit} characters.`;
    case 'maxLength':
      return `Use at most ${limit} characters.`;
    case 'minimum':
      return `Use a number of at least ${limit}.`;
    case 'maximum':
      return `Use a number of at most ${limit}.`;
    case 'exclusiveMinimum':
      return `Use a number greater than ${limit}.`;
    case 'exclusiveMaximum':
      return `Use a number smaller than ${limit}.`;
    case 'minItems':
      return `List at least ${limit}.`;
    case 'maxItems':
      return `List at most ${limit}.`;
    case 'pattern': {
      const hint = issue.parentSchema?.[PATTERN_MESSAGE];
      if (typeof hint === 'string') return hint;
      if (params.pattern === NO_NUL_PATTERN) return 'must not contain a NUL character';
      return 'contains characters or a format that is not allowed';
    }
    case 'type':
      if (issue.instancePath === '') return 'must be a JSON object';
      return TYPE_NAMES[String(params.type)] ?? `must be of type ${String(params.type)}`;
    case 'format':
      return `is not a valid ${String(params.format)}`;
  }
  return issue.message ?? 'is not valid';
}

const TYPE_NAMES: Record<string, string> = {
  string: 'must be text (a JSON string)',
  integer: 'must be a whole number',
  number: 'must be a number',
  boolean: 'must be true or false',
  object: 'must be a JSON object',
  array: 'must be a list (a JSON array)',
  null: 'must be null',
};
