import autocannon from 'autocannon';
import { addCpu, cpuSince, cpuSnapshot } from './cpu.js';
import { KEYCLOAK_PER_VCPU } from './keycloak.js';
import { measure } from './measure.js';
import {
  BENCH_API_SCOPE,
  BENCH_REDIRECT_URI,
  createClient,
  exchangeBody,
  inParallel,
  prepareCode,
  type BenchClient,
  type PreparedCode,
} from './oidc-flow.js';
import { waitIdle } from './processes.js';
import { figuresOf, num, type Figures, type ScenarioResult } from './report.js';
import { CONNECTIONS } from './scenarios.js';
import { bearerFor } from './setup.js';

/*
 * Scenarios 4b and 4c, the OpenID Connect token endpoint, shown beside the refresh (4):
 * client credentials grants (`POST /oidc/token grant_type=client_credentials`, client_secret_basic)
 * and authorization code exchanges (`grant_type=authorization_code` with PKCE). A code lives 60 s
 * and is spent on first use, so the codes are prepared through the sign-in step just before each
 * measured run, in batches sized from the measured rates, and each run sends exactly as many
 * exchanges as it has codes (autocannon `amount`): it cannot run out.
 */

const FORM = 'application/x-www-form-urlencoded';
/** Concurrent browsers preparing codes (from this process, which shares the machine's cores). */
const PREPARE_CONCURRENCY = 16;
/** Codes live 60 s (provider.ts `AuthorizationCode`): a batch is prepared within 40 s … */
const PREPARE_BUDGET_S = 40;
/**
 * Preparing stops here whatever the count, should the machine slow down: the first code is at most
 * this old when the run starts.
 */
const PREPARE_DEADLINE_S = 50;
/** … and spent within 20 s at the calibrated rate, 40 s should the rate halve: never older than 60 s. */
const RUN_BUDGET_S = 20;
/** A batch run shorter than this measures connection start-up and the tail, not the endpoint. */
const SHORTEST_RUN_S = 2;
/** The calibration run: enough codes for every connection to exchange a few. */
const CALIBRATION_CODES = CONNECTIONS * 4;
/** Sign-in step's users: their Bearer tokens are spread over the codes. */
const SIGNED_IN_USERS = 8;

function clientCredentialsOptions(url: string, client: BenchClient): autocannon.Options {
  return {
    url: `${url}/oidc/token`,
    connections: CONNECTIONS,
    method: 'POST',
    headers: { 'content-type': FORM, authorization: client.basic },
    body: `grant_type=client_credentials&scope=${encodeURIComponent(BENCH_API_SCOPE)}`,
  };
}

/**
 * Exactly `codes.length` exchanges, each with a code of its own, oldest first. Should the pool
 * ever be empty (a request autocannon sent twice), the request carries a code that does not
 * exist and is answered 400 invalid_grant, counted as a non-2xx: never a throw, which would end
 * the run.
 */
function exchangeOptions(url: string, client: BenchClient, codes: PreparedCode[]): autocannon.Options {
  const pool = [...codes];
  return {
    url: `${url}/oidc/token`,
    connections: Math.min(CONNECTIONS, codes.length),
    amount: codes.length,
    method: 'POST',
    headers: { 'content-type': FORM, authorization: client.basic },
    timeout: 60,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => ({
          ...request,
          body: exchangeBody(pool.shift() ?? { code: 'none-left', verifier: 'none-left' }),
        }),
      },
    ],
  };
}

interface CodeRun {
  figures: Figures;
  /** Codes prepared (fewer than asked for only when PREPARE_DEADLINE_S cut the preparation short). */
  prepared: number;
  seconds: number;
  prepareSeconds: number;
}

/** Prepares `count` codes, waits until the server is idle, and spends them all in one run. */
async function codeRun(
  url: string,
  pid: number,
  client: BenchClient,
  auths: Array<{ authorization: string }>,
  count: number,
): Promise<CodeRun> {
  let next = 0;
  const started = performance.now();
  const { results } = await inParallel(
    PREPARE_CONCURRENCY,
    () => prepareCode(url, client.clientId, auths[next++ % auths.length] as { authorization: string }),
    { count, untilMs: started + PREPARE_DEADLINE_S * 1000 },
  );
  const prepareSeconds = (performance.now() - started) / 1000;
  if (results.length === 0) throw new Error('no code could be prepared');
  await waitIdle([pid], 5000);
  const watch = { service: [pid] };
  const before = cpuSnapshot(watch);
  const result = await autocannon(exchangeOptions(url, client, results));
  const cpu = cpuSince(before, cpuSnapshot(watch));
  const seconds = result.duration;
  // A run of a fixed number of requests ends inside its last second: the rate is the whole run's.
  return {
    figures: { ...figuresOf(result), requestsPerSecond: result.requests.total / seconds, cpu },
    prepared: results.length,
    seconds,
    prepareSeconds,
  };
}

/** Runs of one measurement, added up: the rate of all of them, the worst p50 and p99. */
function combine(runs: CodeRun[]): Figures {
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const requests = runs.reduce((sum, r) => sum + r.figures.requests, 0);
  return {
    requestsPerSecond: requests / seconds,
    p50Ms: Math.max(...runs.map((r) => r.figures.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.figures.p99Ms)),
    requests,
    non2xx: runs.reduce((sum, r) => sum + r.figures.non2xx, 0),
    errors: runs.reduce((sum, r) => sum + r.figures.errors, 0),
    cpu: addCpu(runs.map((r) => r.figures.cpu)),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

/**
 * The fallback when codes cannot be prepared fast enough for a run: the whole flow (authorization
 * request, sign-in step, resume, exchange: four requests) on CONNECTIONS browsers for `seconds`.
 */
async function wholeFlow(
  url: string,
  client: BenchClient,
  auths: Array<{ authorization: string }>,
  seconds: number,
): Promise<Figures> {
  let next = 0;
  const flow = async (): Promise<boolean> => {
    try {
      const code = await prepareCode(url, client.clientId, auths[next++ % auths.length] as { authorization: string });
      const answer = await fetch(`${url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': FORM, authorization: client.basic },
        body: exchangeBody(code),
      });
      await answer.text();
      return answer.status === 200;
    } catch {
      return false;
    }
  };
  const started = performance.now();
  const { results, ms } = await inParallel(CONNECTIONS, flow, { untilMs: started + seconds * 1000 });
  const elapsed = (performance.now() - started) / 1000;
  const sorted = [...ms].sort((a, b) => a - b);
  const ok = results.filter(Boolean).length;
  return {
    requestsPerSecond: ok / elapsed,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    requests: results.length,
    non2xx: results.length - ok,
    errors: 0,
  };
}

export interface OidcScenarioInput {
  url: string;
  pid: number;
  /** The server's environment: `twofold client create` runs with it. */
  env: Record<string, string>;
  usernames: string[];
  seconds: number;
  cores: number;
  refresh: Figures;
}

/** 4b: client credentials grants per second, with Keycloak's published sizing beside it. */
export async function clientCredentialsScenario(input: OidcScenarioInput): Promise<ScenarioResult> {
  const client = createClient(input.env, [
    '--name',
    'Bench robot',
    '--grant',
    'client_credentials',
    '--scope',
    BENCH_API_SCOPE,
  ]);
  console.log(
    `4b. client credentials: POST /oidc/token grant_type=client_credentials scope=${BENCH_API_SCOPE}, client_secret_basic (client made with \`twofold client create\`)`,
  );
  const figures = await measure('Twofold', clientCredentialsOptions(input.url, client), input.seconds, {
    cpu: { service: [input.pid] },
  });
  const keycloak = KEYCLOAK_PER_VCPU.clientCredentials * input.cores;
  return {
    scenario: '4b. POST /oidc/token client_credentials',
    twofold: figures,
    target: 'beside refresh/s; Keycloak sizing for reference',
    keycloakPerVcpu: KEYCLOAK_PER_VCPU.clientCredentials,
    note: `${num(figures.requestsPerSecond)} grants/s, refresh ${num(input.refresh.requestsPerSecond)}/s; Keycloak's sizing guide: ~${KEYCLOAK_PER_VCPU.clientCredentials}/s per vCPU (${keycloak}/s for ${input.cores}), not measured here`,
  };
}

/**
 * 4c: authorization code exchanges per second. A calibration batch (CALIBRATION_CODES) gives the
 * rates of preparing and of exchanging; then batches of codes, each prepared within
 * PREPARE_BUDGET_S and spent within RUN_BUDGET_S, until `seconds` of exchanges are measured. When
 * even a SHORTEST_RUN_S batch could not be prepared in time, the whole flow is measured instead,
 * and the row says so.
 */
export async function codeExchangeScenario(input: OidcScenarioInput): Promise<ScenarioResult> {
  const name = '4c. POST /oidc/token authorization_code (PKCE)';
  const target = 'beside refresh/s';
  const client = createClient(input.env, [
    '--name',
    'Bench web app',
    '--redirect-uri',
    BENCH_REDIRECT_URI,
    '--skip-consent',
  ]);
  const auths = await Promise.all(
    input.usernames.slice(0, SIGNED_IN_USERS).map((username) => bearerFor(input.url, username)),
  );
  console.log(
    `4c. code exchange: POST /oidc/token grant_type=authorization_code with PKCE S256 (codes prepared through the sign-in step: authorization request, interaction login with a Bearer token, resume; a --skip-consent client)`,
  );
  const calibration = await codeRun(input.url, input.pid, client, auths, CALIBRATION_CODES);
  let prepareRate = CALIBRATION_CODES / calibration.prepareSeconds;
  const exchangeRate = calibration.figures.requestsPerSecond;
  console.log(
    `   calibration: ${CALIBRATION_CODES} codes prepared at ${prepareRate.toFixed(0)}/s (${PREPARE_CONCURRENCY} browsers), exchanged at ${exchangeRate.toFixed(0)}/s`,
  );
  const batch = Math.floor(Math.min(PREPARE_BUDGET_S * prepareRate, RUN_BUDGET_S * exchangeRate));
  if (batch < SHORTEST_RUN_S * exchangeRate || batch < CONNECTIONS) {
    console.log(
      `   codes cannot be prepared fast enough: ${PREPARE_BUDGET_S} s of preparation at ${prepareRate.toFixed(0)}/s would not feed a ${SHORTEST_RUN_S} s run at ${exchangeRate.toFixed(0)} exchanges/s within the codes' 60 s; measuring the WHOLE code flow per second instead`,
    );
    const flows = await wholeFlow(input.url, client, auths, input.seconds);
    console.log(
      `  Twofold      ${flows.requestsPerSecond.toFixed(1).padStart(9)} flows/s   p50 ${flows.p50Ms} ms   p99 ${flows.p99Ms} ms`,
    );
    return {
      scenario: '4c. whole authorization code flow (flows/s)',
      twofold: flows,
      target,
      note: `WHOLE FLOW, not the exchange alone (codes could not be prepared fast enough): ${num(flows.requestsPerSecond)} flows/s of 4 requests, refresh ${num(input.refresh.requestsPerSecond)}/s`,
    };
  }
  const runs: CodeRun[] = [];
  let spent = 0;
  let rate = exchangeRate;
  // Batch after batch until `seconds` of exchanges are measured, each sized from the last rate seen
  // (never shorter than SHORTEST_RUN_S, never more codes than one batch may hold).
  while (spent < input.seconds) {
    const limit = Math.min(PREPARE_BUDGET_S * prepareRate, RUN_BUDGET_S * rate);
    const count = Math.max(CONNECTIONS, Math.ceil(Math.min(limit, Math.max(input.seconds - spent, 1) * rate)));
    const run = await codeRun(input.url, input.pid, client, auths, count);
    runs.push(run);
    spent += run.seconds;
    if (run.figures.requests === 0) break;
    rate = run.figures.requestsPerSecond;
    prepareRate = run.prepared / run.prepareSeconds;
    console.log(
      `  Twofold      ${run.figures.requestsPerSecond.toFixed(1).padStart(9)} req/s   p50 ${run.figures.p50Ms} ms   p99 ${run.figures.p99Ms} ms   (${run.prepared} codes prepared in ${run.prepareSeconds.toFixed(1)} s, spent in ${run.seconds.toFixed(1)} s)${run.figures.non2xx ? `   (${run.figures.non2xx} non-2xx)` : ''}`,
    );
  }
  const figures = combine(runs);
  return {
    scenario: name,
    twofold: figures,
    target,
    note: `${num(figures.requestsPerSecond)} exchanges/s over ${spent.toFixed(1)} s in ${runs.length} batch${runs.length > 1 ? 'es' : ''}, refresh ${num(input.refresh.requestsPerSecond)}/s; sign-in step to code ${num(prepareRate)}/s (${PREPARE_CONCURRENCY} browsers)`,
  };
}
