import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitForPort } from './nginx.js';

const run = promisify(execFile);
export const APACHE = process.env.APACHE_PATH ?? '/usr/sbin/apache2';
/** Where Debian's apache2-bin and libapache2-mod-auth-openidc put their modules. */
const MODULES = process.env.APACHE_MODULES_DIR ?? '/usr/lib/apache2/modules';

export interface ProtectedSite {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Apache's error log (auth_openidc at debug level), for a failing test's message. */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Debian's Apache with mod_auth_openidc as the relying party: `/private/` is a static page (server-side includes)
 * that only a person signed in through Twofold sees, and it shows the claims mod_auth_openidc put in the request's
 * environment. Its own ServerRoot, config, pid file and logs in a temporary directory; only the modules it needs;
 * stopped by its pid.
 */
export async function startApacheOidc(options: {
  port: number;
  /** Twofold's discovery document (OIDCProviderMetadataURL). */
  metadataUrl: string;
  clientId: string;
  clientSecret: string;
}): Promise<ProtectedSite> {
  const dir = mkdtempSync(path.join(tmpdir(), 'twofold-apache-'));
  // Apache's children run as www-data when it starts as root: they read the pages.
  chmodSync(dir, 0o755);
  mkdirSync(path.join(dir, 'www/private'), { recursive: true });
  writeFileSync(path.join(dir, 'www/index.html'), '<!doctype html><title>Public</title><h1>Public</h1>');
  writeFileSync(
    path.join(dir, 'www/private/index.shtml'),
    `<!doctype html><html lang="en"><title>Team wiki</title><link rel="icon" href="data:,"><h1>Team wiki</h1><ul>
<li>REMOTE_USER: <span id="user"><!--#echo var="REMOTE_USER" --></span></li>
<li>OIDC_CLAIM_preferred_username: <span id="preferred_username"><!--#echo var="OIDC_CLAIM_preferred_username" --></span></li>
<li>OIDC_CLAIM_email: <span id="email"><!--#echo var="OIDC_CLAIM_email" --></span></li>
<li>OIDC_CLAIM_amr: <span id="amr"><!--#echo var="OIDC_CLAIM_amr" --></span></li>
<li>OIDC_CLAIM_acr: <span id="acr"><!--#echo var="OIDC_CLAIM_acr" --></span></li>
</ul></html>`,
  );
  const origin = `http://127.0.0.1:${options.port}`;
  const modules = [
    ['mpm_event_module', 'mod_mpm_event.so'],
    ['authn_core_module', 'mod_authn_core.so'],
    ['authz_core_module', 'mod_authz_core.so'],
    ['authz_user_module', 'mod_authz_user.so'],
    ['mime_module', 'mod_mime.so'],
    ['dir_module', 'mod_dir.so'],
    ['include_module', 'mod_include.so'],
    ['auth_openidc_module', 'mod_auth_openidc.so'],
  ]
    .map(([name, file]) => `LoadModule ${name} ${MODULES}/${file}`)
    .join('\n');
  const runAs = process.getuid?.() === 0 ? 'User www-data\nGroup www-data' : '';
  const config = `
ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${options.port}
PidFile ${dir}/apache.pid
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
ErrorLog ${dir}/error.log
LogLevel warn auth_openidc:debug
${runAs}
${modules}
TypesConfig /etc/mime.types
DocumentRoot ${dir}/www
DirectoryIndex index.html index.shtml
<Directory ${dir}/www>
  Require all granted
</Directory>

OIDCProviderMetadataURL ${options.metadataUrl}
OIDCClientID ${options.clientId}
OIDCClientSecret ${options.clientSecret}
OIDCRedirectURI ${origin}/private/redirect_uri
OIDCCryptoPassphrase ${randomBytes(32).toString('hex')}
OIDCScope "openid profile email"
OIDCPKCEMethod S256
OIDCRemoteUserClaim preferred_username

<Location /private>
  AuthType openid-connect
  Require valid-user
  Options +Includes
  AddOutputFilter INCLUDES .shtml
  AddType text/html .shtml
</Location>
`;
  const configFile = path.join(dir, 'apache2.conf');
  writeFileSync(configFile, config);
  await run(APACHE, ['-t', '-f', configFile]);
  const child = spawn(APACHE, ['-f', configFile, '-DFOREGROUND'], { stdio: 'ignore' });
  const errorLog = (): string => {
    try {
      return readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  await waitForPort(options.port, () => child.exitCode !== null, errorLog, 'apache2');
  return {
    origin,
    errorLog,
    async stop() {
      // Only the Apache this test started, by its own pid (the parent; its children follow it).
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
