/**
 * Where the sign-in page sends the person once they are signed in, from its `redirect` query.
 *
 * A path of this app (`/security`) is followed inside the app. An absolute address (`https://grafana.example.com/d`)
 * comes from forward authentication: a reverse proxy sent the person here from another application. The page does
 * not judge it — the server does, with the same URL parser browsers use and the FORWARD_AUTH_DOMAINS allow-list —
 * so the page navigates to `GET /api/auth/forward/return`, which redirects there or, for any other host, to the start
 * page (OWASP Unvalidated Redirects and Forwards Cheat Sheet: the destination is checked on the server).
 */
export type SignInDestination = { path: string } | { href: string };

export function signInDestination(redirect: unknown): SignInDestination {
  if (typeof redirect !== 'string') return { path: '/' };
  // `//host` and `/\host` are other hosts to a browser: never a path of this app.
  if (redirect.startsWith('/') && !redirect.startsWith('//') && !redirect.startsWith('/\\')) return { path: redirect };
  if (/^https?:\/\//i.test(redirect)) return { href: `/api/auth/forward/return?url=${encodeURIComponent(redirect)}` };
  return { path: '/' };
}
