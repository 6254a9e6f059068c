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

export function emailChangeMessage(input: LinkMessageInput): MailMessage {
  return linkMessage(input, {
    subject: `Confirm your new email address for ${input.issuer}`,
    intro: `Someone signed in to a ${input.issuer} account asked to use this address for it.`,
    action: 'Confirm this email address',
    ignore: 'If it was not you, ignore this message: the address will not be added.',
  });
}

/**
 * `n***@example.com`: enough for the owner to recognise an address they chose, not enough to give a
 * stranger reading the old mailbox the whole new one.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return `${[...local][0] ?? ''}***${email.slice(at)}`;
}

/** To the old address when a change is asked for: the owner learns of it while the old address still works. */
export function emailChangeNotice(input: { to: string; issuer: string; newEmail: string }): MailMessage {
  const masked = maskEmail(input.newEmail);
  const lines = [
    `Someone signed in to your ${input.issuer} account asked to change its email address to ${masked}.`,
    'This address keeps working until the new one is confirmed.',
    `If this wasn't you, change your password and sign out your other sessions on the Security page, or tell your administrator.`,
  ];
  return {
    to: input.to,
    subject: `Your ${input.issuer} email address is being changed`,
    text: lines.join('\n\n'),
    html: lines.map((line) => `<p>${escapeHtml(line)}</p>`).join(''),
  };
}
