import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUI from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import { Ajv } from 'ajv';
import Fastify, {
  type FastifyInstance,
  type FastifySchema,
  type FastifySchemaCompiler,
  type FastifyServerOptions,
  type FastifyBaseLogger,
  type FastifyReply,
  type RawServerDefault,
  type RawRequestDefaultExpression,
  type RawReplyDefaultExpression,
} from 'fastify';
import type { Config } from '../config.js';
import type { Metrics } from '../modules/ops/metrics.js';
import { AppError, errorBody } from '../lib/errors.js';
import { LOG_REDACT_PATHS, OneLinePerRequest, readableLogStream, serializeRequest } from './logging.js';
import { securityHeaders } from './security-headers.js';
import { installErrorHandling, toAppError } from './errors.js';
import { ErrorSchema, errorResponses } from './schema.js';
import { closeObjectSchemas } from './closed-schema.js';
import type { InFlightRequests } from './in-flight.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ServerOptions {
  /** Where log lines go (default stdout); tests pass a buffer to inspect them. */
  logStream?: { write(line: string): void };
  /** Where the requests being handled are counted (started, finished); shutting down waits for them. */
  inFlight: InFlightRequests;
}

export async function buildServer(config: Config, metrics: Metrics, options: ServerOptions): Promise<App> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
      serializers: { req: serializeRequest },
      ...(options.logStream
        ? { stream: options.logStream }
        : config.nodeEnv === 'development'
          ? { stream: readableLogStream() }
          : {}),
    },
    logController: new OneLinePerRequest(),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy as boolean | string,
    // Replaced by the onRequest hook below, which answers in the contract's error format.
    return503OnClosing: false,
    // The validator is given as a factory, not with setValidatorCompiler(): a plugin that adds its
    // own schemas (addSchema) gets a new schema controller, which rebuilds its compiler from this
    // factory; after setValidatorCompiler() it fell back to Fastify's default Ajv (array coercion,
    // open objects).
    schemaController: { compilersFactory: { buildSerializer: sharedSerializers, buildValidator: requestValidators() } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A malformed URL or an over-long path parameter fails in the router, before the error handler.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const appError = toAppError(error);
      void reply.status(appError.status).send(errorBody(appError));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const { inFlight } = options;
  installErrorHandling(app);
  declareFrameworkAnswers(app);
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null);
  app.addSchema(ErrorSchema);

  // A callback hook, not an async one: no promise per request for two synchronous updates.
  app.addHook('onResponse', (request, reply, done) => {
    inFlight.finished(request);
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  // Once close() starts, responses to in-flight requests end their keep-alive connection:
  // otherwise close() waits for idle clients until keepAliveTimeout (72 s) before it finishes.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // The handler has its answer (sent or not: the client may be gone): its work is over.
  app.addHook('onSend', (request, reply, payload, done) => {
    inFlight.finished(request);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  // One synchronous hook for every request: refuse new work while closing, add the security headers
  // (helmet's policy, computed once; /docs sets its own CSP over it).
  const headers = securityHeaders({
    contentSecurityPolicy: {
      directives: {
        upgradeInsecureRequests: null,
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
      },
    },
  });
  // Answers other than built assets are not to be stored; the header sets are merged once, here.
  const pageHeaders = { ...headers, ...NO_STORE };
  const apiHeaders = jsonApiHeaders(headers);
  app.addHook('onRequest', (request, reply, done) => {
    if (closing) return done(new AppError('service_unavailable', { message: 'The server is shutting down; retry.' }));
    inFlight.started(request);
    const { url } = request;
    reply.headers(url.startsWith('/api/') ? apiHeaders : isStaticAsset(url) ? headers : pageHeaders);
    done();
  });

  // Without CORS_ORIGINS no other origin may read an answer: the plugin would add nothing to any
  // answer (a preflight gets the same 404 from the router), only a hook on every request.
  if (config.corsOrigins.length > 0)
    await app.register(cors, {
      origin: [...config.corsOrigins],
      credentials: true,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With'],
      maxAge: 600,
    });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Twofold',
        version: '0.1.0',
        description: 'Twofold, a self-hosted authentication service: every operation of its HTTP API.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    // The document shows request schemas as they are enforced: closed (closed-schema.ts), so a
    // client reading it knows an undeclared field is refused.
    transform: ({ schema, url }) => ({
      url,
      schema: schema && {
        ...schema,
        ...(schema.body ? { body: closeObjectSchemas(schema.body) } : {}),
        ...(schema.querystring ? { querystring: closeObjectSchemas(schema.querystring) } : {}),
        ...(schema.params ? { params: closeObjectSchemas(schema.params) } : {}),
      },
    }),
  });
  await app.register(swaggerUI, {
    routePrefix: '/docs',
    theme: { title: 'Twofold API' },
    staticCSP: true,
    // Swagger UI sets style attributes from its script; scripts stay limited to its own files. The
    // same style rule as the web UI's policy above.
    // upgrade-insecure-requests would break the page on a plain-HTTP address inside a network.
    transformStaticCSP: (header) =>
      header
        .replace("style-src 'self' https:", "style-src 'self' 'unsafe-inline'")
        .replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  return app;
}

/**
 * Statuses Fastify itself answers before a handler runs, declared on every route that documents its
 * answers, so the OpenAPI document lists every status a client can get: 400 for a body, query or
 * path that fails its schema or is not JSON; 413 and 415 for a body too large or not JSON (any
 * method that may carry a body); 401 for routes that take a Bearer token. A route's own
 * declaration of the same status wins.
 */
function declareFrameworkAnswers(app: App): void {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as (FastifySchema & { security?: unknown[] }) | undefined;
    if (!schema?.response) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const takesBody = methods.some((method) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method));
    const statuses: number[] = [];
    if (takesBody || schema.body || schema.querystring || schema.params) statuses.push(400);
    if (takesBody) statuses.push(413, 415);
    if (schema.security?.length) statuses.push(401);
    route.schema = { ...schema, response: { ...errorResponses(...statuses), ...(schema.response as object) } };
  });
}

/**
 * Answers carry tokens, codes, secrets or personal data, so no cache (browser, proxy, CDN) may keep
 * them: RFC 6749 §5.1 (`no-store` on token responses), RFC 9111 §5.2.2.5, OWASP REST Security Cheat
 * Sheet; `Pragma` for HTTP/1.0 caches. Simplest robust rule: every answer, except the web UI's
 * built assets and the API docs' static files, which are public and fingerprinted. A handler may
 * still set its own policy for a public document (the JWKS does).
 */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/**
 * The JSON API's answers are never rendered as documents, so they carry the headers the OWASP REST
 * Security Cheat Sheet ("Security Headers") lists for API responses: no caching, a policy that
 * allows nothing and no framing, HSTS, nosniff, X-Frame-Options; and helmet's
 * Cross-Origin-Resource-Policy and Referrer-Policy. Helmet's document-only headers (COOP,
 * Origin-Agent-Cluster, X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 * X-XSS-Protection) stay with the pages: every header is validated and written on every answer.
 */
function jsonApiHeaders(helmetHeaders: Record<string, string>): Record<string, string> {
  const kept = [
    'strict-transport-security',
    'x-content-type-options',
    'cross-origin-resource-policy',
    'referrer-policy',
  ];
  return {
    ...Object.fromEntries(kept.flatMap((name) => (helmetHeaders[name] ? [[name, helmetHeaders[name]]] : []))),
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    ...NO_STORE,
  };
}

function isStaticAsset(url: string): boolean {
  return url.startsWith('/app/assets/') || url.startsWith('/docs/static/');
}

/**
 * Fastify compiles a serializer per route and status; most of those schemas are the same (every
 * error answer is `{ $ref: 'Error' }`), so each distinct schema is compiled once and shared: a
 * large part of the start-up time was fast-json-stringify compiling the same code a hundred times.
 */
function sharedSerializers(
  ...args: Parameters<ReturnType<typeof SerializerSelector>>
): ReturnType<ReturnType<typeof SerializerSelector>> {
  const compile = SerializerSelector()(...args);
  const compiled = new Map<string, ReturnType<typeof compile>>();
  return (route) => {
    const key = JSON.stringify(route.schema);
    let serializer = compiled.get(key);
    if (!serializer) {
      serializer = compile(route);
      compiled.set(key, serializer);
    }
    return serializer;
  };
}

/**
 * Bodies are validated without type coercion (a number is not a string); query strings and
 * path parameters are coerced, since everything there arrives as text.
 *
 * Every request schema is closed before it is compiled (closed-schema.ts): a field the schema does
 * not declare is refused with 400 naming it, never silently bound or dropped (OWASP Mass
 * Assignment Cheat Sheet). Ajv's `removeAdditional` stays off so that nothing is dropped quietly.
 * One pair of Ajv instances serves every plugin context; schemas a plugin registers with
 * addSchema are added to it once, for `$ref`s.
 */
function requestValidators(): ValidatorFactory {
  // The schemas are fixed in the code (and exercised by the tests): checking them against the JSON Schema
  // meta-schema on every start would compile that meta-schema twice for nothing (~0.1 s of the cold start).
  const options = {
    allErrors: true,
    useDefaults: true,
    removeAdditional: false,
    strict: false,
    validateSchema: false,
    // Each error carries the schema that failed, for a field's own message (errors.ts, describeIssue).
    verbose: true,
  } as const;
  const bodyAjv = new Ajv({ ...options, coerceTypes: false });
  const textAjv = new Ajv({ ...options, coerceTypes: true });
  for (const ajv of [bodyAjv, textAjv]) ajv.addSchema(ErrorSchema);
  // Tracked here: Ajv's getSchema() would compile a schema just to say it is there.
  const added = new Set<string>(['Error']);
  const build = (externalSchemas: Record<string, unknown> = {}): FastifySchemaCompiler<unknown> => {
    for (const schema of Object.values(externalSchemas) as Array<{ $id?: string }>) {
      if (!schema.$id || added.has(schema.$id)) continue;
      added.add(schema.$id);
      for (const ajv of [bodyAjv, textAjv]) ajv.addSchema(schema);
    }
    return ({ schema, httpPart }) =>
      (httpPart === 'body' ? bodyAjv : textAjv).compile(closeObjectSchemas(schema as object));
  };
  // Fastify calls the built compiler with the route definition (FastifySchemaCompiler); the
  // published ValidatorFactory type describes a bare Ajv compile instead.
  return build as unknown as ValidatorFactory;
}

type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;
