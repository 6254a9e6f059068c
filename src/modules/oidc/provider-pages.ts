import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * The two pages of RP-initiated logout the provider itself renders (OpenID Connect RP-Initiated Logout 1.0 §2 and
 * §5): the question before signing out, and the page after it when the application registered nowhere to return
 * to. Plain HTML in the web UI's colours, without a script or anything loaded from elsewhere; every value that
 * comes from a client (its name is an administrator's input) is escaped (OWASP XSS Prevention Cheat Sheet, rule 1).
 */

/** The web UI's look (web/src/styles.css), cut down to one card. */
const STYLE = `
:root{color-scheme:light}*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:grid;place-items:start center;padding:3rem 1rem;background:#f5f6f8;color:#1b1f24;
font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.45}
main{width:100%;max-width:460px;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.25rem 1.5rem}
.brand{margin:0 0 1rem;font-weight:700;color:#57606a}
h1{font-size:1.5rem;margin:0 0 .75rem;overflow-wrap:anywhere}
p{margin:0 0 1rem}.hint{color:#57606a;font-size:.925rem;margin:1rem 0 0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem}
button{font:inherit;padding:.5rem 1rem;border:1px solid #8c959f;border-radius:6px;background:#f6f8fa;color:#1b1f24;cursor:pointer}
button:hover{background:#eaeef2}
button.primary{background:#0b57d0;border-color:#0b57d0;color:#fff}button.primary:hover{background:#0842a0}
a{color:#0b57d0}:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
@media (max-width:480px){body{padding:1.5rem .75rem}.actions button{flex:1 1 100%}}
`.trim();

/**
 * The pages' own Content Security Policy (the server's is left to the provider on its routes): nothing may load
 * or run but this one style sheet, named by its hash; no frame may show them (clickjacking the "Sign out" button).
 * No form-action: the confirmation's answer redirects to the application's post_logout_redirect_uri, which
 * browsers check against form-action too.
 */
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(ctx: KoaContextWithOIDC, title: string, body: string): void {
  ctx.set('content-security-policy', CSP);
  ctx.type = 'html';
  ctx.body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Twofold</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<p class="brand">Twofold</p>
${body}
</main>
</body>
</html>`;
}

/** The client's name as people know it (the consent page shows the same), or its id when it has none. */
function clientName(ctx: KoaContextWithOIDC): string | undefined {
  const client = ctx.oidc.client;
  return client ? (client.clientName ?? client.clientId) : undefined;
}

/**
 * The question (RP-Initiated Logout 1.0 §2: the OP should ask whether the person wants to sign out of the OP too).
 * `form` is the provider's: its action and hidden anti-forgery value, kept as they are. "Sign out" sends
 * `logout=yes`; "Stay signed in" sends no `logout` at all, which the provider reads as "the application only"
 * (any non-empty `logout`, even "no", means yes to it).
 */
export async function logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const name = clientName(ctx);
  const safe = name === undefined ? undefined : escapeHtml(name);
  const title = safe ? `Sign out of Twofold and ${safe}?` : 'Sign out of Twofold?';
  page(
    ctx,
    'Sign out',
    `<h1>${title}</h1>
<p>After signing out of Twofold, the next application that asks will need your password again.</p>
${form}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>
</div>
<p class="hint">${safe ? `“Stay signed in” signs you out of ${safe} only and keeps` : '“Stay signed in” keeps'} you signed in to Twofold in this browser.</p>`,
  );
}

/**
 * After the logout, when the application registered no post_logout_redirect_uri (or sent none). The provider adds
 * `client_id` only when the person chose "Stay signed in"; a full sign-out comes without it.
 */
export async function postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
  const name = clientName(ctx);
  if (name !== undefined) {
    const safe = escapeHtml(name);
    page(
      ctx,
      'Signed out',
      `<h1>You are signed out of ${safe}</h1>
<p>You are still signed in to Twofold in this browser.</p>
<p><a href="/app/login">Go to Twofold</a></p>`,
    );
    return;
  }
  page(
    ctx,
    'Signed out',
    `<h1>You are signed out</h1>
<p>You are signed out of Twofold in this browser. Close the window, or sign in again.</p>
<p><a href="/app/login">Sign in again</a></p>`,
  );
}
