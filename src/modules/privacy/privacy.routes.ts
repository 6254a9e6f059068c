import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requirePrincipal, type Authenticate, type RequireRecentAuth } from '../../http/principal.js';
import { NoContent, errorResponses } from '../../http/schema.js';
import { DataExportSchema, DeleteAccountBody } from './privacy.schemas.js';
import type { PrivacyService } from './privacy.service.js';
import { clearRefreshCookie, isBrowserRequest } from '../sessions/refresh-cookie.js';
import type { SessionCookie } from '../sessions/session-cookie.js';

export interface PrivacyRoutesOptions {
  privacy: PrivacyService;
  authenticate: Authenticate;
  /** Deleting the account needs a recent sign-in (the HTTP contract "Security rules"). */
  requireRecentAuth: RequireRecentAuth;
  /** The browser session cookie (forward authentication), cleared with the refresh cookie. */
  sessionCookie: SessionCookie;
}

/** A file name made of the characters usernames are made of; anything else (an imported name) becomes `_`. */
function exportFileName(username: string): string {
  return `twofold-${username.replace(/[^A-Za-z0-9_.-]/g, '_')}-export.json`;
}

export const privacyRoutes: FastifyPluginAsyncTypebox<PrivacyRoutesOptions> = async (
  app,
  { privacy, authenticate, requireRecentAuth, sessionCookie },
) => {
  const common = { tags: ['accounts'], security: [{ bearer: [] }] };

  app.get(
    '/api/user/me/export',
    {
      onRequest: authenticate,
      schema: { ...common, response: { 200: DataExportSchema, ...errorResponses(401) } },
    },
    async (request, reply) => {
      const data = await privacy.exportData(requirePrincipal(request.principal));
      // Personal data: the server's no-store default applies (src/http/server.ts), and a browser saves it as a file.
      void reply.header('content-disposition', `attachment; filename="${exportFileName(data.profile.username)}"`);
      return data;
    },
  );

  app.delete(
    '/api/user/me',
    {
      onRequest: authenticate,
      preHandler: requireRecentAuth,
      schema: {
        ...common,
        body: DeleteAccountBody,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      await privacy.deleteOwnAccount(requirePrincipal(request.principal), request.body.confirm);
      // The web UI's cookies name a session that no longer exists: the browser forgets them.
      if (isBrowserRequest(request)) {
        clearRefreshCookie(reply);
        sessionCookie.clear(reply);
      }
      return reply.status(204).send();
    },
  );
};
