import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Principal } from '../../http/principal.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { AuditService } from '../audit/audit.service.js';
import { provesSecondFactor } from '../two-factor/require-2fa.js';

/**
 * The Authentication Context Class References this provider asserts (OpenID Connect Core 1.0 §2,
 * `acr`): `mfa` when the sign-in proved two factors, `pwd` when it proved one. A relying party that
 * sends `acr_values=mfa` (without `pwd`) asks for two factors.
 */
export const ACR_VALUES = ['mfa', 'pwd'] as const;

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
type ClientEntity = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;
/** The raw request and response: the provider reads its interaction cookie from them. */
export type RawExchange = { req: IncomingMessage; res: ServerResponse };
type Actor = { ip: string | null; userAgent: string | null };

export interface InteractionView {
  uid: string;
  prompt: 'login' | 'consent';
  client: { client_id: string; client_name: string | null };
  scopes: string[];
  claims: string[];
  /** The person must prove who they are again before login (prompt=login, or max_age): a re-authentication. */
  reauth_required: boolean;
  /** Only when `reauth_required` comes from max_age: how old, in seconds, the sign-in may be. */
  max_age: number | null;
  acr_values: string[];
}

export interface InteractionsService {
  details(raw: RawExchange, uid: string): Promise<InteractionView>;
  login(raw: RawExchange, uid: string, principal: Principal): Promise<string>;
  consent(raw: RawExchange, uid: string, principal: Principal, actor: Actor): Promise<string>;
  /** The person cancels the sign-in or declines the consent: the application gets `access_denied`. */
  abort(raw: RawExchange, uid: string): Promise<string>;
}

/**
 * The sign-in and consent steps of the authorization code flow (OpenID Connect Core 1.0 §3.1.2.3
 * and §3.1.2.4): the web UI's page reads the interaction here and answers it with Twofold's own
 * sign-in. The interaction is found through the provider's interaction cookie, never through the uid
 * alone: the uid travels in a URL, while the cookie is HttpOnly, signed, and only in the browser
 * that started the authorization request. A person lured to someone else's interaction cannot
 * finish it for them (OWASP OAuth 2.0 Cheat Sheet, login CSRF; RFC 9700 §4.7).
 */
export function createInteractionsService(deps: {
  provider: Provider;
  clock: Clock;
  audit: AuditService;
}): InteractionsService {
  const { provider } = deps;

  async function find(raw: RawExchange, uid: string): Promise<Interaction> {
    let interaction: Interaction;
    try {
      interaction = await provider.interactionDetails(raw.req, raw.res);
    } catch {
      throw gone();
    }
    // The cookie names the interaction this browser started; the path must name the same one.
    if (interaction.uid !== uid) throw gone();
    return interaction;
  }

  function requestedAcr(interaction: Interaction): string[] {
    const values = interaction.params.acr_values;
    return typeof values === 'string' ? values.split(' ').filter(Boolean) : [];
  }

  function maxAge(interaction: Interaction): number | null {
    const value = Number(interaction.params.max_age);
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  }

  function view(interaction: Interaction, client: { clientId: string; clientName?: string }): InteractionView {
    const { name, reasons, details } = interaction.prompt;
    const scope = typeof interaction.params.scope === 'string' ? interaction.params.scope : '';
    const missingClaims = details.missingOIDCClaims;
    return {
      uid: interaction.uid,
      prompt: name === 'consent' ? 'consent' : 'login',
      client: { client_id: client.clientId, client_name: client.clientName ?? null },
      scopes: scope.split(' ').filter(Boolean),
      claims: Array.isArray(missingClaims) ? missingClaims.map(String) : [],
      reauth_required: name === 'login' && (reasons.includes('login_prompt') || reasons.includes('max_age')),
      max_age: maxAge(interaction),
      acr_values: requestedAcr(interaction),
    };
  }

  async function clientOf(interaction: Interaction): Promise<ClientEntity> {
    const client = await provider.Client.find(String(interaction.params.client_id));
    if (!client) throw gone();
    return client;
  }

  return {
    async details(raw, uid) {
      const interaction = await find(raw, uid);
      return view(interaction, await clientOf(interaction));
    },

    async login(raw, uid, principal) {
      const interaction = await find(raw, uid);
      if (interaction.prompt.name !== 'login')
        throw new AppError('validation_failed', { message: 'This step is not a sign-in; call consent.' });
      const authTime = principal.authTime;
      if (authTime === null) throw reauth('Sign in again: this access token does not say when you signed in.');
      const nowSeconds = Math.floor(deps.clock.now().getTime() / 1000);
      // prompt=login (OpenID Connect Core 1.0 §3.1.2.1): a sign-in made after the request, not before it.
      if (interaction.prompt.reasons.includes('login_prompt') && authTime < interaction.iat!)
        throw reauth('This application asks you to sign in again: confirm it is you (POST /api/auth/reauth).');
      const age = maxAge(interaction);
      // max_age (§3.1.2.1): the sign-in may be at most that many seconds old.
      if (age !== null && nowSeconds - authTime > age)
        throw reauth('Your sign-in is older than this application allows: confirm it is you (POST /api/auth/reauth).');
      const twoFactors = provesSecondFactor(principal.amr);
      const asked = requestedAcr(interaction);
      // acr_values=mfa alone asks for two factors (§3.1.2.1, `acr_values`); a one-factor sign-in does not do.
      if (asked.includes('mfa') && !asked.includes('pwd') && !twoFactors)
        throw reauth('This application asks for two-step verification: confirm it is you with your second factor.');
      return provider.interactionResult(
        raw.req,
        raw.res,
        {
          login: {
            accountId: String(principal.userId),
            amr: principal.amr,
            acr: twoFactors ? 'mfa' : 'pwd',
            ts: authTime,
            remember: false,
          },
        },
        { mergeWithLastSubmission: false },
      );
    },

    async consent(raw, uid, principal, actor) {
      const interaction = await find(raw, uid);
      if (interaction.prompt.name !== 'consent')
        throw new AppError('validation_failed', { message: 'Sign in first; this step is not a consent.' });
      // The person consenting is the one who signed in to this interaction, nobody else.
      if (interaction.session?.accountId !== String(principal.userId))
        throw new AppError('forbidden', { message: 'This sign-in belongs to another account.' });
      const clientId = String(interaction.params.client_id);
      const grant = interaction.grantId
        ? await provider.Grant.find(interaction.grantId)
        : new provider.Grant({ accountId: String(principal.userId), clientId });
      if (!grant) throw gone();
      const { details } = interaction.prompt;
      const scopes = Array.isArray(details.missingOIDCScope) ? details.missingOIDCScope.map(String) : [];
      if (scopes.length) grant.addOIDCScope(scopes.join(' '));
      if (Array.isArray(details.missingOIDCClaims)) grant.addOIDCClaims(details.missingOIDCClaims.map(String));
      const grantId = await grant.save();
      await deps.audit.record({
        type: 'oidc.consent',
        userId: principal.userId,
        ...actor,
        detail: { client_id: clientId, scope: scopes.join(' ') },
      });
      return provider.interactionResult(raw.req, raw.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    },

    async abort(raw, uid) {
      await find(raw, uid);
      // RFC 6749 §4.1.2.1: the resource owner denied the request; the application learns only that.
      return provider.interactionResult(
        raw.req,
        raw.res,
        { error: 'access_denied', error_description: 'The person cancelled the sign-in or declined the request.' },
        { mergeWithLastSubmission: false },
      );
    },
  };
}

function gone(): AppError {
  return new AppError('not_found', {
    message:
      'This sign-in request has expired or was started in another browser; go back to the application and start again.',
  });
}

function reauth(message: string): AppError {
  return new AppError('reauth_required', { message });
}
