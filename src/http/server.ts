import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUI from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyBaseLogger, type RawServerDefault, type RawRequestDefaultExpression, type RawReplyDefaultExpression } from 'fastify';
import type { Config } from '../config.js';
import type { Metrics } from '../modules/ops/metrics.js';
import { installErrorHandling } from './errors.js';
import { ErrorSchema } from './schema.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

// Logs never carry a password, token, code or secret (issue 3, "Security rules").
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.code',
  '*.totp_code',
  '*.secret',
];

export async function buildServer(config: Config, metrics: Metrics): Promise<App> {
  const app = Fastify({
    logger: { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy as boolean | string,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidation(app);
  installErrorHandling(app);
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  app.addSchema(ErrorSchema);

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: { upgradeInsecureRequests: null, defaultSrc: ["'self'"], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'", "'unsafe-inline'"], scriptSrc: ["'self'"] },
    },
  });
  await app.register(cors, {
    origin: config.corsOrigins.length > 0 ? [...config.corsOrigins] : false,
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With'],
    maxAge: 600,
  });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Twofold', version: '0.1.0', description: 'Authentication service: see API.md for the contract.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUI, { routePrefix: '/docs', staticCSP: true });
  return app;
}

/**
 * Bodies are validated without type coercion (a number is not a string); query strings and
 * path parameters are coerced, since everything there arrives as text.
 */
function installValidation(app: App): void {
  const options = { allErrors: true, useDefaults: true, removeAdditional: true, strict: false } as const;
  const bodyAjv = new Ajv({ ...options, coerceTypes: false });
  const textAjv = new Ajv({ ...options, coerceTypes: true });
  for (const ajv of [bodyAjv, textAjv]) ajv.addSchema(ErrorSchema);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
}
