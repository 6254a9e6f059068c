/**
 * The container image without a container engine: the Dockerfile is read (never a second list of
 * its files), its runtime stage is rebuilt in a temporary folder from the same files, its command
 * runs with the image's environment, and the running server is checked over HTTP. compose.yaml is
 * checked with Debian's docker-compose. (CI machines cannot pull images; docs/docker.md says what
 * was run with a real engine.)
 *
 * The build stage is this checkout: `npm test` runs `npm ci` and `npm run build` before this suite,
 * the same two commands the build stage runs on the same files.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnv, promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { PASSWORD, TEST_SECRETS } from '../support/app.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name: string;
  instructions: Instruction[];
}
interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Dockerfile syntax as far as ours uses it: comments, `\` continuations, ARG before FROM, `FROM x AS y`. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw)) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole) logical.push(whole);
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, base = '', name = ''] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest) ?? [];
      stages.push({ base, name: name || String(stages.length), instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args[name] = value;
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before FROM`);
      stage.instructions.push({ keyword: upper, args: rest });
    }
  }
  return { args, stages };
}

function instructionsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** `ENV A=1 B=2` (the key=value form, unquoted or double-quoted values). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of instructionsOf(stage, 'ENV')) {
    for (const match of args.matchAll(/(\w+)=("[^"]*"|\S+)/g))
      env[match[1] ?? ''] = (match[2] ?? '').replace(/^"|"$/g, '');
  }
  return env;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

function copiesOf(stage: Stage): Copy[] {
  return instructionsOf(stage, 'COPY').map((args) => {
    const words = args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    const paths = words.filter((w) => !w.startsWith('--'));
    if (paths.length < 2 || flags.some((f) => !f.startsWith('--from=')))
      throw new Error(`COPY ${args}: only --from=, sources and a destination are read here`);
    const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '' };
  });
}

function stageNamed(file: Dockerfile, name: string): Stage {
  const stage = file.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage;
}

/** The WORKDIR a stage runs in, following FROM through earlier stages. */
function workdirOf(file: Dockerfile, stage: Stage): string {
  const own = instructionsOf(stage, 'WORKDIR').at(-1);
  if (own) return own;
  const parent = file.stages.find((s) => s.name === stage.base);
  return parent ? workdirOf(file, parent) : '/';
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function output(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1) as Stage;
const imageEnv = envOf(runtime);
const cmd = JSON.parse(instructionsOf(runtime, 'CMD').at(-1) ?? '[]') as string[];
const healthcheck = instructionsOf(runtime, 'HEALTHCHECK').at(-1) ?? '';
const healthcheckCmd = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(healthcheck)?.[1] ?? '[]') as string[];

describe('the Dockerfile', () => {
  it('runs the same command as npm start, as a non-root user, on Node 20 slim, with the data folder as a volume', () => {
    const start =
      (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
        .start ?? '';
    expect(cmd.join(' ')).toBe(start.split('&&').at(-1)?.trim());
    expect(runtime.name).toBe('runtime');
    expect(runtime.base).toBe('${NODE_IMAGE}');
    expect(dockerfile.args.NODE_IMAGE).toBe('node:20-bookworm-slim');
    expect(instructionsOf(runtime, 'USER')).toEqual(['node']);
    expect(imageEnv.NODE_ENV).toBe('production');
    expect(instructionsOf(runtime, 'VOLUME')).toEqual([imageEnv.TWOFOLD_DATA_DIR]);
    expect(instructionsOf(runtime, 'EXPOSE')).toEqual(['3000']);
    // The probe is node itself (slim images have no curl) asking /readyz.
    expect(healthcheckCmd[0]).toBe('node');
    expect(healthcheckCmd.join(' ')).toContain('/readyz');
    // No compiler reaches the runtime stage: it starts from the plain Node image, not the toolchain.
    expect(dockerfile.stages.find((s) => s.name === runtime.base)).toBeUndefined();
  });

  it('keeps secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.env', 'node_modules', 'dist', 'web/dist', 'data', '.git']) expect(ignored).toContain(entry);
    // …but not what the build stage compiles.
    for (const needed of ['src', 'web', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json'])
      expect(ignored).not.toContain(needed);
  });
});

describe('the image runtime, reproduced outside a container', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'twofold-image-'));
  const app = path.join(work, 'app');
  const dataDir = path.join(work, 'data');
  let server: ChildProcess | undefined;
  let base = '';
  let port = 0;
  let logs: () => string = () => '';

  /** Runs a stage's own COPY (from the build context) and RUN lines in a fresh folder, like the engine would. */
  async function materialise(stage: Stage): Promise<string> {
    const dir = path.join(work, `stage-${stage.name}`);
    mkdirSync(dir, { recursive: true });
    for (const { from, sources, destination } of copiesOf(stage)) {
      if (from) throw new Error(`stage ${stage.name}: COPY --from is not reproduced here`);
      // Several sources go into a destination folder (Docker requires it to end with /).
      for (const file of sources)
        cpSync(path.join(ROOT, file), path.join(dir, destination, sources.length > 1 ? path.basename(file) : ''), {
          recursive: true,
        });
    }
    for (const command of instructionsOf(stage, 'RUN')) {
      await run('sh', ['-c', command], {
        cwd: dir,
        env: { ...process.env, ...npmSpeedUps() },
        maxBuffer: 16 * 1024 * 1024,
      });
    }
    return dir;
  }

  /**
   * Only how fast, never what is installed: npm's cache first, and better-sqlite3's addon from this
   * checkout's own install as a "local prebuild" (prebuild-install's documented option) instead of the
   * GitHub download, which this machine cannot reach, or a minute of compiling.
   */
  function npmSpeedUps(): Record<string, string> {
    const addon = path.join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const { version } = JSON.parse(
      readFileSync(path.join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8'),
    ) as { version: string };
    const prebuilds = path.join(work, 'prebuilds');
    const file = path.join(
      prebuilds,
      `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
    );
    if (existsSync(addon) && !existsSync(file)) {
      const staging = path.join(work, 'prebuild-staging');
      mkdirSync(path.join(staging, 'build/Release'), { recursive: true });
      cpSync(addon, path.join(staging, 'build/Release/better_sqlite3.node'));
      mkdirSync(prebuilds, { recursive: true });
      tarball(staging, file);
    }
    return {
      npm_config_prefer_offline: 'true',
      npm_config_better_sqlite3_local_prebuilds: prebuilds,
      npm_config_update_notifier: 'false',
    };
  }

  beforeAll(async () => {
    mkdirSync(app);
    mkdirSync(dataDir);
    const workdir = workdirOf(dockerfile, runtime);
    const materialised = new Map<string, string>();
    for (const { from, sources, destination } of copiesOf(runtime)) {
      const [source = ''] = sources;
      // One source per COPY here keeps this reading exact (the Dockerfile's header asks for it).
      if (!from || sources.length !== 1)
        throw new Error(`runtime stage: COPY ${sources.join(' ')} must be one file or folder from a build stage`);
      const stage = stageNamed(dockerfile, from);
      // The stage that copies the whole context and builds is this checkout (see the header).
      const stageRoot = instructionsOf(stage, 'COPY').includes('. .')
        ? ROOT
        : (materialised.get(from) ?? (await materialise(stage)));
      materialised.set(from, stageRoot);
      const relative = path.posix.relative(workdirOf(dockerfile, stage), source);
      const target = path.join(app, path.posix.relative(workdir, path.posix.resolve(workdir, destination)));
      mkdirSync(path.dirname(target), { recursive: true });
      if (stageRoot === ROOT) cpSync(path.join(ROOT, relative), target, { recursive: true });
      else renameSync(path.join(stageRoot, relative), target);
    }
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const [program = '', ...args] = cmd;
    // `node` is this Node (the image's is Node 20 too); a volume would be at TWOFOLD_DATA_DIR, here a temp folder.
    server = spawn(program === 'node' ? process.execPath : program, args, {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        ...imageEnv,
        ...TEST_SECRETS,
        TWOFOLD_DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
    });
    logs = output(server);
    await waitForReady();
  }, 110_000);

  async function waitForReady(): Promise<void> {
    for (;;) {
      if (server?.exitCode !== null) throw new Error(`the server exited: ${logs()}`);
      const answer = await fetch(`${base}/readyz`).catch(() => undefined);
      if (answer?.status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server?.once('exit', resolve));
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('holds only what the runtime stage copies, with production dependencies only', () => {
    expect(existsSync(path.join(app, 'src/modules/accounts/common-passwords.txt'))).toBe(true);
    expect(existsSync(path.join(app, 'src/main.ts'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules/better-sqlite3'))).toBe(true);
    for (const dev of ['vitest', 'eslint', 'playwright-core', 'autocannon', 'fast-check'])
      expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
  });

  it('answers /readyz, and the HEALTHCHECK command passes', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
    const [program = '', ...args] = healthcheckCmd;
    const probe = await run(program === 'node' ? process.execPath : program, args, {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', ...imageEnv, PORT: String(port) },
    });
    expect(probe.stderr).toBe('');
  });

  it('registers and signs in over HTTP in production mode, with its database in the data folder', async () => {
    const json = { 'content-type': 'application/json' };
    const username = `docker_${Date.now().toString(36)}`;
    const registered = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
    });
    expect(registered.status).toBe(201);
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username, password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    const me = await fetch(`${base}/api/user/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(await me.json()).toMatchObject({ username });
    // The common-password list is read from disk at the first registration: it is in the image.
    const common = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ username: `${username}_2`, password: 'password' }),
    });
    expect(common.status).toBe(400);
    expect(await common.json()).toMatchObject({ error: 'validation_failed', fields: { password: expect.any(String) } });
    expect(existsSync(path.join(dataDir, 'twofold.db'))).toBe(true);
    // Production: no generated secrets file, metrics off without a token.
    expect(existsSync(path.join(dataDir, 'secrets.json'))).toBe(false);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });

  it('serves the web UI from web/dist', async () => {
    const page = await fetch(`${base}/app/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('refuses to start without the secrets, saying which (what a bare `docker run twofold` prints)', async () => {
    const [program = '', ...args] = cmd;
    const result = await run(program === 'node' ? process.execPath : program, args, {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', ...imageEnv, TWOFOLD_DATA_DIR: dataDir, PORT: '0' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string; stdout: string }) => ({
        code: error.code,
        stderr: error.stderr + error.stdout,
      }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NODE_ENV=production needs JWT_SECRET');
  });
});

describe('compose.yaml', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'twofold-compose-'));
  const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
  const exampleEnv = parseEnv(example) as Record<string, string>;
  /** .env.example with every empty value filled, as a person following it would. */
  const filled = Object.fromEntries(Object.entries(exampleEnv).map(([key, value]) => [key, value || fillFor(key)]));

  function fillFor(key: string): string {
    if (key === 'ENCRYPTION_KEY') return Buffer.alloc(32, 9).toString('base64');
    if (key === 'JWT_SECRET' || key.endsWith('_PASSWORD'))
      return `${key.toLowerCase().replace(/_/g, '')}0123456789abcdef0123456789abcdef`;
    return '';
  }

  /** docker-compose config in a copy of the project's compose.yaml with the given .env; resolved to JSON. */
  async function composeConfig(
    env: string,
    extra: string[] = [],
  ): Promise<{ code: number; json: ComposeFile | undefined; stderr: string }> {
    const dir = mkdtempSync(path.join(work, 'project-'));
    cpSync(path.join(ROOT, 'compose.yaml'), path.join(dir, 'compose.yaml'));
    writeFileSync(path.join(dir, '.env'), env);
    try {
      const { stdout } = await run('docker-compose', ['-f', 'compose.yaml', ...extra, 'config'], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '' },
      });
      // docker-compose is Python with PyYAML (a dependency of Debian's package): its YAML, as JSON.
      const converted = await new Promise<string>((resolve, reject) => {
        const python = execFile(
          'python3',
          ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
          (error, out) => (error ? reject(error) : resolve(out)),
        );
        python.stdin?.end(stdout);
      });
      return { code: 0, json: JSON.parse(converted) as ComposeFile, stderr: '' };
    } catch (error) {
      const failure = error as { code?: number | string; stderr?: string };
      if (failure.code === 'ENOENT')
        throw new Error('docker-compose is not installed (apt-get install docker-compose; .ci/run does it)', {
          cause: error,
        });
      return { code: Number(failure.code), json: undefined, stderr: failure.stderr ?? '' };
    }
  }

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses to start with the secrets of .env.example left empty, naming the one to set', async () => {
    const result = await composeConfig(example);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/set (POSTGRES|REDIS|MARIADB)_PASSWORD in \.env/);
  });

  it('with .env filled in: Twofold on PostgreSQL and Redis, each waiting for the others to be healthy', async () => {
    const env =
      Object.entries(filled)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n';
    const { code, json, stderr } = await composeConfig(env);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const services = json?.services ?? {};
    // Debian's docker-compose 1.29 prints every service; profiles filter only what `up` starts.
    expect(Object.keys(services).sort()).toEqual(['mariadb', 'postgres', 'redis', 'twofold', 'twofold-mariadb']);
    for (const name of ['postgres', 'redis', 'twofold']) expect(services[name]?.profiles, name).toBeUndefined();
    for (const name of ['mariadb', 'twofold-mariadb']) expect(services[name]?.profiles, name).toEqual(['mariadb']);
    const twofold = services.twofold;
    expect(twofold?.environment?.DATABASE_URL).toBe(
      `postgres://twofold:${filled.POSTGRES_PASSWORD}@postgres:5432/twofold`,
    );
    expect(twofold?.environment?.REDIS_URL).toBe(`redis://:${filled.REDIS_PASSWORD}@redis:6379/0`);
    // env_file: everything in .env reaches the container (the secrets among it).
    expect(twofold?.environment?.JWT_SECRET).toBe(filled.JWT_SECRET);
    expect(twofold?.environment?.ENCRYPTION_KEY).toBe(filled.ENCRYPTION_KEY);
    expect(twofold?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(twofold?.volumes?.map(String).join(' ')).toContain('/data');
    expect(twofold?.ports?.map((p) => JSON.stringify(p)).join(' ')).toContain('3000');
    for (const name of ['postgres', 'redis']) expect(services[name]?.healthcheck?.test).toBeDefined();
    expect(Object.keys(json?.volumes ?? {}).sort()).toEqual([
      'mariadb-data',
      'postgres-data',
      'redis-data',
      'twofold-data',
    ]);
  });

  it('the mariadb profile adds Twofold on MariaDB', async () => {
    const env =
      Object.entries(filled)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n';
    const { code, json } = await composeConfig(env, ['--profile', 'mariadb']);
    expect(code).toBe(0);
    const service = json?.services?.['twofold-mariadb'];
    expect(service?.environment?.DATABASE_URL).toBe(`mysql://twofold:${filled.MARIADB_PASSWORD}@mariadb:3306/twofold`);
    expect(service?.depends_on).toEqual({
      mariadb: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(json?.services?.mariadb?.healthcheck?.test).toBeDefined();
  });

  it('.env.example names only variables Twofold or compose.yaml reads, and, filled in, passes the production checks', () => {
    const config = readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
    const compose = readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');
    for (const key of Object.keys(exampleEnv))
      expect(config.includes(`env.${key}`) || compose.includes(`\${${key}`), key).toBe(true);
    const production = { ...imageEnv, ...filled, DATABASE_URL: 'sqlite::memory:' };
    expect(() => loadConfig(production)).not.toThrow();
    for (const secret of ['JWT_SECRET', 'ENCRYPTION_KEY'])
      expect(() => loadConfig({ ...production, [secret]: '' }), secret).toThrow(/NODE_ENV=production needs/);
  });
});

interface ComposeService {
  profiles?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: unknown };
  volumes?: unknown[];
  ports?: unknown[];
}
interface ComposeFile {
  services?: Record<string, ComposeService | undefined>;
  volumes?: Record<string, unknown>;
}

function tarball(directory: string, file: string): void {
  // GNU tar; prebuild-install unpacks the gzip'd tarball with tar-fs.
  const result = spawnSync('tar', ['-czf', file, '-C', directory, 'build'], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`tar failed (${result.status})`);
}
