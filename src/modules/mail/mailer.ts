import type { FastifyBaseLogger } from 'fastify';
import type * as Nodemailer from 'nodemailer';
import { lazy } from '../../lib/lazy.js';

const nodemailer = lazy<typeof Nodemailer>('nodemailer');
import { AppError } from '../../lib/errors.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  /** Development without SMTP_URL: messages are written to this log so a first-time user can read the code. */
  log: FastifyBaseLogger;
  allowLogDelivery: boolean;
}

/**
 * Where mail goes, in words for the start-up line; follows the same rules as createMailer. The
 * SMTP URL is shown as host and port only, never its credentials.
 */
export function mailDestination(options: Pick<MailerOptions, 'smtpUrl' | 'allowLogDelivery'>): string {
  if (options.smtpUrl) {
    let host = 'the SMTP_URL server';
    try {
      const url = new URL(options.smtpUrl);
      host = url.host || host;
    } catch {
      // Not a URL nodemailer would parse either; the first send will say so.
    }
    return `SMTP via ${host}`;
  }
  if (options.allowLogDelivery) return 'written to this log (no SMTP_URL; development only)';
  return 'cannot be sent: SMTP_URL is not set (password reset, email verification and emailed codes answer 503)';
}

export function createMailer(options: MailerOptions): Mailer {
  if (options.smtpUrl) return createSmtpMailer(options.smtpUrl, options.from, options.log);
  if (options.allowLogDelivery) return createLogMailer(options.log);
  return {
    async send() {
      throw new AppError('service_unavailable', { message: 'Email is not configured on this server (SMTP_URL).' });
    },
    close() {},
  };
}

function createSmtpMailer(smtpUrl: string, from: string, log: FastifyBaseLogger): Mailer {
  const transport = nodemailer().createTransport(smtpUrl);
  return {
    async send(message) {
      try {
        await transport.sendMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          html: message.html,
        });
      } catch (error) {
        log.error({ err: error }, 'SMTP delivery failed');
        throw new AppError('service_unavailable', { message: 'The email could not be sent; try again shortly.' });
      }
    },
    close: () => transport.close(),
  };
}

function createLogMailer(log: FastifyBaseLogger): Mailer {
  return {
    async send(message) {
      // Development only (no SMTP_URL and NODE_ENV is not production): the message, code included, goes to the log.
      // The body is the message's text, so a person at the terminal reads the link or code as written.
      log.info(
        { mail: { to: message.to, subject: message.subject, body: message.text } },
        `mail to ${message.to}: ${message.subject}\n\n${message.text}\n`,
      );
    },
    close() {},
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The one-time code message: code in the subject and body, the expiry, and nothing secret besides the code. */
export function codeMessage(input: {
  to: string;
  code: string;
  purpose: string;
  expiresInMinutes: number;
  issuer: string;
}): MailMessage {
  const subject = `${input.code} is your ${input.issuer} verification code`;
  const lines = [
    `Your ${input.issuer} verification code ${input.purpose} is: ${input.code}`,
    '',
    `It expires in ${input.expiresInMinutes} minutes and works once.`,
    `If you did not ask for it, someone may know your password: change it, and ignore this message.`,
  ];
  const html =
    `<p>Your ${escapeHtml(input.issuer)} verification code ${escapeHtml(input.purpose)} is:</p>` +
    `<p style="font-size:24px;font-weight:bold;letter-spacing:4px">${escapeHtml(input.code)}</p>` +
    `<p>It expires in ${input.expiresInMinutes} minutes and works once.</p>` +
    `<p>If you did not ask for it, someone may know your password: change it, and ignore this message.</p>`;
  return { to: input.to, subject, text: lines.join('\n'), html };
}
