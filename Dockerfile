# Twofold's container image: `docker build -t twofold .` (compose.yaml builds it too).
# docs/docker.md explains each choice; test/e2e/container.e2e.ts reads this file and runs the
# runtime stage's files with its ENV and CMD outside a container, so keep COPY, ENV and CMD simple
# (one source and one destination per COPY, exec-form CMD).

ARG NODE_IMAGE=node:20-bookworm-slim

# better-sqlite3 downloads a prebuilt addon from GitHub when it can and otherwise compiles one with
# node-gyp, which needs python3, make and a C++ compiler; @node-rs/argon2 ships its addon as an npm
# package (nothing to compile). The compilers stay in the build stages, never in the image.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# Stage 1: every dependency, then the server bundle (dist/main.js) and the UI (web/dist/).
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Production dependencies only: the packages the bundle leaves outside (native addons, database
# drivers, the packages that serve files of their own; scripts/build-server.mjs).
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Stage 2: what runs. No compiler, no dev dependency, no source except the one file read from disk.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production TWOFOLD_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/package-lock.json ./package-lock.json
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# Read at start-up from the package root (src/lib/paths.ts, src/modules/accounts/password-policy.ts).
COPY --from=build /app/src/modules/accounts/common-passwords.txt ./src/modules/accounts/common-passwords.txt
# The node user (uid 1000) comes with the official Node.js images; the data folder is its own, so a
# new named volume mounted here inherits that owner.
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# Node's own fetch: slim images have no curl. /readyz answers 200 once the database answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The same command as `npm start` after its build (docs/operations.md, "Memory": what the two flags save).
CMD ["node", "--max-semi-space-size=8", "--no-allocation-site-pretenuring", "dist/main.js", "serve"]
