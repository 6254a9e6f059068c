import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly logins: Counter<'outcome'>;
}

/** One registry per app (not prom-client's global), so several apps can live in one test process. */
export function createMetrics(options: { processMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'twofold_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'twofold_http_requests_total',
      help: 'HTTP requests by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'twofold_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'twofold_logins_total',
      help: 'Login attempts by outcome (success, mfa_required, invalid_credentials, invalid_mfa_code, ...).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
