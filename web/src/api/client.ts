/**
 * A small fetch wrapper: JSON in and out, the CSRF header on every call, the access token from
 * memory, and one silent refresh (through the HttpOnly cookie) when the access token has expired.
 */
import type { Method, Path, PathParams, PathsWith, QueryOf, RequestBody, Success } from './schema';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: Record<string, string>;
  readonly retryAfter: number | undefined;

  constructor(code: string, message: string, status: number, fields: Record<string, string> = {}, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

export interface AuthHooks {
  /** The access token held in memory, if any. */
  token: () => string | null;
  /** Gets a new access token through the refresh cookie; false when the session is over. */
  refresh: () => Promise<boolean>;
  /** The session could not be renewed. */
  expired: () => void;
  /**
   * The server wants a recent sign-in (403 `reauth_required`): ask the person to confirm it's them
   * (POST /api/auth/reauth); true once they did, false when they cancelled.
   */
  reauthenticate?: () => Promise<boolean>;
}

let hooks: AuthHooks | null = null;

export function setAuthHooks(next: AuthHooks | null): void {
  hooks = next;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /**
   * false: never try to refresh on 401 or confirm on 403 `reauth_required` (for the refresh call itself and sign-in).
   */
  retry?: boolean;
}

function urlOf(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function statusCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'payload_too_large';
  if (status === 429) return 'too_many_attempts';
  if (status === 503 || status === 502 || status === 504) return 'service_unavailable';
  return 'internal_error';
}

async function errorFrom(response: Response): Promise<ApiError> {
  const retryHeader = response.headers.get('Retry-After');
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader.trim()) ? Number(retryHeader) : undefined;
  let body: { error?: unknown; message?: unknown; fields?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: fall back to the status
  }
  const code = typeof body.error === 'string' ? body.error : statusCode(response.status);
  const message = typeof body.message === 'string' ? body.message : response.statusText;
  const fields = body.fields && typeof body.fields === 'object' ? (body.fields as Record<string, string>) : {};
  return new ApiError(code, message, response.status, fields, retryAfter);
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { 'X-Requested-With': 'twofold', Accept: 'application/json' };
  const token = hooks?.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init: RequestInit = { method: options.method ?? 'GET', headers, credentials: 'same-origin' };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  try {
    return await fetch(urlOf(path, options.query), init);
  } catch {
    throw new ApiError('network_error', 'The server could not be reached.', 0);
  }
}

export async function api<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  let response = await send(path, options);
  if (response.status === 401 && options.retry !== false && hooks?.token()) {
    const error = await errorFrom(response);
    if (error.code !== 'unauthorized') throw error;
    if (!(await hooks.refresh())) {
      hooks.expired();
      throw error;
    }
    response = await send(path, options);
  }
  if (response.status === 403 && options.retry !== false && hooks?.reauthenticate) {
    // A sensitive change (the HTTP contract "Security rules"): confirm it's you, then the same request once more.
    const error = await errorFrom(response);
    if (error.code !== 'reauth_required') throw error;
    if (!(await hooks.reauthenticate()))
      throw new ApiError('reauth_cancelled', 'You cancelled confirming it is you.', 403);
    response = await send(path, options);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/*
 * Typed calls: the path template, its parameters, the query, the body and the answer all come from
 * the server's OpenAPI document (web/src/api/schema.ts), so a call the server would refuse, or an
 * answer field it no longer sends, fails the typecheck. They go through api() above (same refresh,
 * confirmation and errors).
 */

/** Present and required when T is a type; when it is never, absent or `Absent`. */
type Field<K extends string, T, Absent = never> = [T] extends [never] ? { [Q in K]?: Absent } : { [Q in K]: T };

/**
 * Query parameters are all optional here: the document marks the ones with a server default
 * (limit, offset) as required, but leaving them out is how a client asks for the default.
 */
type Query<T> = [T] extends [never] ? never : { [K in keyof T]?: T[K] | null };

export type CallOptions<P extends Path, M extends Method> = Field<'params', PathParams<P, M>> &
  // A POST that takes no body may still send `{}`, as the web UI always has (JSON in, JSON out).
  Field<'body', RequestBody<P, M>, Record<string, never>> & {
    query?: Query<QueryOf<P, M>>;
    /** As RequestOptions.retry. */
    retry?: boolean;
  };

type CallArgs<P extends Path, M extends Method> =
  Record<string, never> extends CallOptions<P, M> ? [options?: CallOptions<P, M>] : [options: CallOptions<P, M>];

/** `/api/products/{id}` with `{ id: 7 }`: `/api/products/7`. */
function fillPath(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(value));
  });
}

function call<M extends Method, P extends PathsWith<M>>(
  method: M,
  path: P,
  options: CallOptions<P, M> | undefined,
): Promise<Success<P, M>> {
  const { params, body, query, retry } = (options ?? {}) as {
    params?: Record<string, unknown>;
    body?: unknown;
    query?: RequestOptions['query'];
    retry?: boolean;
  };
  return api<Success<P, M>>(fillPath(path, params), {
    method: method.toUpperCase() as NonNullable<RequestOptions['method']>,
    body,
    query,
    ...(retry === undefined ? {} : { retry }),
  });
}

export const apiGet = <P extends PathsWith<'get'>>(
  path: P,
  ...[options]: CallArgs<P, 'get'>
): Promise<Success<P, 'get'>> => call('get', path, options);
export const apiPost = <P extends PathsWith<'post'>>(
  path: P,
  ...[options]: CallArgs<P, 'post'>
): Promise<Success<P, 'post'>> => call('post', path, options);
export const apiPut = <P extends PathsWith<'put'>>(
  path: P,
  ...[options]: CallArgs<P, 'put'>
): Promise<Success<P, 'put'>> => call('put', path, options);
export const apiPatch = <P extends PathsWith<'patch'>>(
  path: P,
  ...[options]: CallArgs<P, 'patch'>
): Promise<Success<P, 'patch'>> => call('patch', path, options);
export const apiDelete = <P extends PathsWith<'delete'>>(
  path: P,
  ...[options]: CallArgs<P, 'delete'>
): Promise<Success<P, 'delete'>> => call('delete', path, options);
