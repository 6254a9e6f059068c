import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { PACKAGE_ROOT } from '../../lib/paths.js';

/** web/dist, built by `npm run build` (Vite). */
export const WEB_DIST = path.join(PACKAGE_ROOT, 'web/dist/');

/**
 * The pages of the original HTML apps, at the addresses their users bookmarked, and the web UI page
 * that does the same job now. The same paths answer POST as JSON API routes elsewhere.
 */
const ORIGINAL_PAGES: Record<string, string> = {
  '/register': '/app/register',
  '/login': '/app/login',
  '/token_input': '/app/token',
  '/token': '/app/token',
  '/verify': '/app/verify',
};

/** A browser navigating (RFC 9110 §12.5.1: it lists text/html in Accept); API clients send JSON or nothing. */
function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

/**
 * The web UI under /app/ (`/` redirects there). Unknown paths under /app/ get index.html so the
 * single-page app's router can show them (deep links and reloads work).
 */
export const webRoutes: FastifyPluginAsync<{ root?: string | undefined; sourceMaps?: boolean }> = async (
  app,
  options,
) => {
  const root = options.root ?? WEB_DIST;
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
  for (const [from, to] of Object.entries(ORIGINAL_PAGES)) {
    app.get(from, { schema: { hide: true } }, async (request, reply) => {
      // The answer depends on Accept: caches must not hand a browser's redirect to an API client (RFC 9110 §12.5.5).
      reply.header('vary', 'Accept');
      // The query is dropped: the old token page took the token in it, and a token has no place in a URL (OWASP ASVS
      // 3.1.1).
      if (wantsHtml(request.headers.accept)) return reply.redirect(to, 302);
      throw new AppError('not_found', { message: `${from} is a page: open ${to} in a browser.` });
    });
  }
  if (!existsSync(`${root}/index.html`)) {
    app.get('/app/*', { schema: { hide: true } }, async () => {
      throw new AppError('service_unavailable', {
        message: 'The web UI is not built: run npm run build (npm start does it).',
      });
    });
    return;
  }
  // Source maps hand out the original source; production serves none, even if a build left some
  // behind (OWASP WSTG-INFO-05: review web page content for information leakage).
  const sourceMaps = options.sourceMaps ?? true;
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    wildcard: false,
    index: ['index.html'],
    maxAge: '1h',
    immutable: false,
    allowedPath: (pathName) => sourceMaps || !pathName.toLowerCase().endsWith('.map'),
  });
  app.get('/app/*', { schema: { hide: true } }, async (request, reply) => {
    // A missing asset is a 404, not the app's page (a browser would try to run HTML as a script).
    if (
      request.url.startsWith('/app/assets/') ||
      (!sourceMaps && (request.url.split('?')[0] ?? '').toLowerCase().endsWith('.map'))
    )
      throw new AppError('not_found');
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
};
