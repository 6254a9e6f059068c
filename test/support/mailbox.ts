import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A message as the SMTP server received it, with its MIME parts decoded. */
export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), lower case. */
  to: string[];
  from: string;
  subject: string;
  /** Content types of every leaf part, e.g. `text/plain`, `text/html`. */
  contentTypes: string[];
  text: string | undefined;
  html: string | undefined;
  raw: string;
}

export interface Mailbox {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  received: ReceivedMail[];
  /** Every message sent to `address`, oldest first. */
  to(address: string): ReceivedMail[];
  /** The one-time code messages (a six-digit code in the subject) sent to `address`, oldest first. */
  codeMails(address: string): ReceivedMail[];
  /** The newest code message to `address`; throws when there is none. */
  latestCodeMail(address: string): ReceivedMail;
  /** The code of the newest code message to `address`. */
  latestCode(address: string): string;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the `smtp-server` package) on a free local port. A message is stored before
 * the server answers the DATA command, so it is here as soon as the app's request has returned.
 */
export async function startMailbox(): Promise<Mailbox> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        received.push(parseMail(Buffer.concat(chunks).toString('utf8'), to, from));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const to = (address: string): ReceivedMail[] => received.filter((m) => m.to.includes(address.toLowerCase()));
  // Other mail (e.g. the address confirmation sent at registration) goes to the same inbox.
  const codeMails = (address: string): ReceivedMail[] => to(address).filter((m) => CODE_SUBJECT.test(m.subject));
  const latestCodeMail = (address: string): ReceivedMail => {
    const mail = codeMails(address).at(-1);
    if (!mail) throw new Error(`no code message to ${address}`);
    return mail;
  };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    to,
    codeMails,
    latestCodeMail,
    latestCode: (address) => codeFrom(latestCodeMail(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const CODE_SUBJECT = /\b(\d{6})\b/;

/** The six-digit code from a message's subject line. */
export function codeFrom(mail: ReceivedMail): string {
  const match = CODE_SUBJECT.exec(mail.subject);
  if (!match?.[1]) throw new Error(`no code in subject "${mail.subject}"`);
  return match[1];
}

// Minimal MIME (RFC 2045/2046/2047): enough for what nodemailer sends; no mailparser in the tree.

interface Part {
  headers: Map<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end === -1 ? text : text.slice(0, end);
  const headers = new Map<string, string>();
  // Unfold continuation lines (RFC 5322 §2.2.3), then split name: value.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: end === -1 ? '' : text.slice(end + 2) };
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return Buffer.from(
        body
          .replace(/=\n/g, '')
          .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    default:
      return body;
  }
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, data: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data
            .replace(/_/g, ' ')
            .replace(/=([0-9A-F]{2})/gi, (__, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

function leaves(part: Part): Array<{ type: string; content: string }> {
  const contentType = part.headers.get('content-type') ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (!type.startsWith('multipart/'))
    return [{ type, content: decodeBody(part.body, part.headers.get('content-transfer-encoding')).replace(/\n$/, '') }];
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return [];
  const sections = part.body.split(`--${boundary}`).slice(1);
  return sections.filter((s) => !s.startsWith('--')).flatMap((s) => leaves(splitPart(s.replace(/^\n/, ''))));
}

function parseMail(raw: string, to: string[], from: string): ReceivedMail {
  const top = splitPart(raw);
  const parts = leaves(top);
  return {
    to,
    from,
    subject: decodeWords(top.headers.get('subject') ?? ''),
    contentTypes: parts.map((p) => p.type),
    text: parts.find((p) => p.type === 'text/plain')?.content,
    html: parts.find((p) => p.type === 'text/html')?.content,
    raw,
  };
}
