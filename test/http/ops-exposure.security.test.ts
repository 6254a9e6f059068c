import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { App } from '../../src/http/server.js';
import { TEST_SECRETS, fastHasher } from '../support/app.js';

/**
 * What the operations surface shows to whom: in production /metrics needs METRICS_TOKEN (or does
 * not exist), and no source map of the web UI is served.
 */

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** A built UI as Vite would leave it with source maps switched on. */
function fakeWebBuild(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'twofold-web-'));
  mkdirSync(path.join(root, 'assets'));
  writeFileSync(
    path.join(root, 'index.html'),
    '<!doctype html><script type="module" src="/app/assets/index.js"></script>',
  );
  writeFileSync(path.join(root, 'assets/index.js'), 'console.log(1);\n//# sourceMappingURL=index.js.map\n');
  writeFileSync(
    path.join(root, 'assets/index.js.map'),
    '{"version":3,"sources":["../src/main.ts"],"sourcesContent":["secret source"]}',
  );
  writeFileSync(path.join(root, 'stray.map'), '{"version":3}');
  return root;
}

async function appWith(env: Record<string, string>): Promise<App> {
  const config = loadConfig({ ...TEST_SECRETS, DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', ...env });
  const { app } = await createApp(config, { hasher: fastHasher, webRoot: fakeWebBuild() });
  await app.ready();
  return app;
}

describe('operations surface in production', () => {
  const apps: App[] = [];
  let withToken: App;
  let withoutToken: App;
  let development: App;
  beforeAll(async () => {
    withToken = await appWith({ NODE_ENV: 'production', METRICS_TOKEN });
    withoutToken = await appWith({ NODE_ENV: 'production' });
    development = await appWith({ NODE_ENV: 'test' });
    apps.push(withToken, withoutToken, development);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('production without METRICS_TOKEN has no /metrics at all (404)', async () => {
    const answer = await withoutToken.inject({ url: '/metrics' });
    expect(answer.statusCode).toBe(404);
    expect(answer.json().error).toBe('not_found');
  });

  it('production with METRICS_TOKEN answers /metrics only to that bearer token', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong-token-wrong-token-x',
      `Bearer ${METRICS_TOKEN}x`,
      `Basic ${METRICS_TOKEN}`,
      METRICS_TOKEN,
    ]) {
      const refused = await withToken.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });
      expect(refused.statusCode, String(authorization)).toBe(401);
      expect(refused.json()).toEqual({ error: 'unauthorized', message: expect.any(String) });
    }
    const allowed = await withToken.inject({ url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toMatch(/twofold_http_requests_total/);
  });

  it('development and test keep /metrics open when no token is set', async () => {
    expect((await development.inject({ url: '/metrics' })).statusCode).toBe(200);
  });

  it('production serves the UI but never a .map file', async () => {
    expect((await withoutToken.inject({ url: '/app/assets/index.js' })).statusCode).toBe(200);
    const docsMaps = [
      '/docs/static/swagger-ui-bundle.js.map',
      '/docs/static/swagger-ui.css.map',
      '/docs/static/swagger-ui-standalone-preset.js.map',
    ];
    for (const url of [
      '/app/assets/index.js.map',
      '/app/stray.map',
      '/app/assets/INDEX.JS.MAP',
      '/app/assets/index.js.map?x=1',
      ...docsMaps,
    ]) {
      const answer = await withoutToken.inject({ url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.body).not.toMatch(/secret source/);
    }
    // Outside production the maps are there for debugging.
    expect((await development.inject({ url: '/app/assets/index.js.map' })).statusCode).toBe(200);
  });

  it('a METRICS_TOKEN too short to be secret is refused at start-up', () => {
    expect(() => loadConfig({ ...TEST_SECRETS, NODE_ENV: 'production', METRICS_TOKEN: 'short' })).toThrow(
      /METRICS_TOKEN/,
    );
  });
});
