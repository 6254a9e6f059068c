import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface ProxiedSite {
  /** The port nginx listens on (TLS), for every host name below. */
  port: number;
  /** nginx's error log, for a failing test's message. */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * A tiny upstream application: a page that shows the X-Auth-* headers it received from the proxy, one per line
 * (`<li id="x-auth-user">alice</li>`), so the browser test can read what Twofold told nginx.
 */
export async function startEchoUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const items = ['x-auth-user', 'x-auth-email', 'x-auth-role', 'x-auth-amr']
      .map((name) => `<li id="${name}">${escapeHtml(String(request.headers[name] ?? ''))}</li>`)
      .join('');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><title>Protected app</title><h1>Protected app</h1>` +
        `<p id="path">${escapeHtml(request.url ?? '')}</p><ul>${items}</ul></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Debian's nginx in front of Twofold as docs/forward-auth.md configures it: `auth.<domain>` proxies to Twofold,
 * `app.<domain>` and `admin.<domain>` pass each request through `auth_request` first, then to the echo upstream
 * (and `/static/` to a file on disk). TLS with a self-signed certificate made here; its own config, pid, log and
 * temporary files in a temporary directory; stopped by its pid.
 */
export async function startNginx(options: {
  port: number;
  domain: string;
  twofold: string;
  upstreamPort: number;
}): Promise<ProxiedSite> {
  const dir = mkdtempSync(path.join(tmpdir(), 'twofold-nginx-'));
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'www/static'), { recursive: true });
  writeFileSync(
    path.join(dir, 'www/static/index.html'),
    '<!doctype html><html lang="en"><title>Static page</title><h1 id="static">A static page behind Twofold</h1></html>',
  );
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${options.domain}`,
    '-addext',
    `subjectAltName=DNS:${options.domain},DNS:*.${options.domain}`,
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
  ]);
  const { port, domain } = options;
  const tls = `listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;`;
  // The protected servers' part is the configuration docs/forward-auth.md gives for nginx.
  const config = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream twofold { server ${options.twofold}; }

  server {
    ${tls}
    server_name auth.${domain};
    location / {
      proxy_pass http://twofold;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }

  server {
    ${tls}
    server_name app.${domain} admin.${domain};
    root ${dir}/www;

    location = /_twofold {
      internal;
      auth_request off;
      proxy_pass http://twofold/api/auth/forward;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
    }

    auth_request /_twofold;
    auth_request_set $twofold_user $upstream_http_x_auth_user;
    auth_request_set $twofold_email $upstream_http_x_auth_email;
    auth_request_set $twofold_role $upstream_http_x_auth_role;
    auth_request_set $twofold_amr $upstream_http_x_auth_amr;
    auth_request_set $twofold_signin $upstream_http_location;
    error_page 401 =302 $twofold_signin;

    location /static/ { }
    location / {
      proxy_pass http://127.0.0.1:${options.upstreamPort};
      proxy_set_header X-Auth-User $twofold_user;
      proxy_set_header X-Auth-Email $twofold_email;
      proxy_set_header X-Auth-Role $twofold_role;
      proxy_set_header X-Auth-Amr $twofold_amr;
    }
  }
}
`;
  const configFile = path.join(dir, 'nginx.conf');
  writeFileSync(configFile, config);
  await run(NGINX, ['-t', '-q', '-p', dir, '-c', configFile]);
  const child = spawn(NGINX, ['-p', dir, '-c', configFile, '-g', 'daemon off;'], { stdio: 'ignore' });
  const errorLog = (): string => {
    try {
      return readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  await waitForPort(port, () => child.exitCode !== null, errorLog);
  return {
    port,
    errorLog,
    async stop() {
      // Only the nginx this test started, by its own pid (the master; its worker follows it).
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until a server this test spawned listens on 127.0.0.1:`port`; fails with its log if it exits first. */
export async function waitForPort(
  port: number,
  exited: () => boolean,
  log: () => string,
  name = 'nginx',
): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (exited()) throw new Error(`${name} exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} did not listen on ${port}: ${log()}`);
}
