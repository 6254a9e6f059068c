import type { MailMessage } from '../mail/mailer.js';

export interface LinkMessageInput {
  to: string;
  issuer: string;
  link: string;
  ttlSeconds: number;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `30 minutes`, `24 hours`. */
export function describeDuration(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

interface Wording {
  subject: string;
  intro: string;
  action: string;
  ignore: string;
}

/**
 * A one-time link message: the link, the expiry, and nothing secret besides the token in the link.
 * No "or enter this code" line: no page accepts a typed token, and a mail must not promise a box
 * the reader cannot find.
 */
function linkMessage(input: LinkMessageInput, wording: Wording): MailMessage {
  const expiry = `The link works once and expires in ${describeDuration(input.ttlSeconds)}.`;
  const lines = [wording.intro, '', `${wording.action}:`, input.link, '', expiry, wording.ignore];
  const html =
    `<p>${escapeHtml(wording.intro)}</p>` +
    `<p><a href="${escapeHtml(input.link)}">${escapeHtml(wording.action)}</a></p>` +
    `<p>${escapeHtml(expiry)}</p>` +
    `<p>${escapeHtml(wording.ignore)}</p>`;
  return { to: input.to, subject: wording.subject, text: lines.join('\n'), html };
}

export function passwordResetMessage(input: LinkMessageInput): MailMessage {
  return linkMessage(input, {
    subject: `Reset your ${input.issuer} password`,
    intro: `Someone asked to reset the password of your ${input.issuer} account.`,
    action: 'Choose a new password',
    ignore: 'If you did not ask for it, ignore this message: your password stays as it is.',
  });
}

export function emailVerificationMessage(input: LinkMessageInput): MailMessage {
  return linkMessage(input, {
    subject: `Confirm your email address for ${input.issuer}`,
    intro: `Please confirm that this address belongs to your ${input.issuer} account.`,
    action: 'Confirm your email address',
    ignore: `If you did not create a ${input.issuer} account, ignore this message.`,
  });
}
