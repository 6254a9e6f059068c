import type { MailMessage } from '../mail/mailer.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The stand-alone code message: the code (in the subject too, as the sign-in codes have it), the
 * expiry, and no link: a typed code proves the reader holds this mailbox, nothing else is granted.
 */
export function emailProofMessage(input: {
  to: string;
  code: string;
  issuer: string;
  expiresInMinutes: number;
}): MailMessage {
  const subject = `${input.code} is your ${input.issuer} code to confirm this address`;
  const intro = `Someone asked ${input.issuer} to confirm that this email address is yours. Your code is:`;
  const expiry = `It expires in ${input.expiresInMinutes} minutes and works once. Enter it where you were asked for it.`;
  const ignore =
    'If you did not ask for it, ignore this message: the code confirms the address only, and nothing happens without it.';
  const text = [intro, input.code, '', expiry, ignore].join('\n');
  const html =
    `<p>${escapeHtml(intro)}</p>` +
    `<p style="font-size:24px;font-weight:bold;letter-spacing:4px">${escapeHtml(input.code)}</p>` +
    `<p>${escapeHtml(expiry)}</p>` +
    `<p>${escapeHtml(ignore)}</p>`;
  return { to: input.to, subject, text, html };
}
