import { fastifyCookie } from '@fastify/cookie';

export interface CookieAttributes {
  path: string;
  domain?: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'lax' | 'strict';
}

/**
 * A Set-Cookie value that makes the browser drop a cookie: the same name, Path and Domain as when it was set
 * (RFC 6265 §5.3 step 11: only those identify it), an empty value and a date in the past, with the attributes it
 * had (a Secure cookie is overwritten only from a secure origin: RFC 6265bis §5.6 step 12). Written by
 * @fastify/cookie's serializer, the one `reply.clearCookie` uses, for an answer Fastify does not send.
 */
export function clearingHeader(name: string, attributes: CookieAttributes): string {
  return fastifyCookie.serialize(name, '', { ...attributes, expires: new Date(0), maxAge: 0 });
}
