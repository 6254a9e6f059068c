#!/usr/bin/env bash
# Builds the image with a real container engine and checks it: starts as the node user with
# secrets from the environment, becomes healthy through its HEALTHCHECK, registers and signs in
# over HTTP, keeps its SQLite file in the /data volume, holds no compiler, stops cleanly on SIGTERM.
#
#   scripts/check-image.sh                 # uses node:20-bookworm-slim (pulled, or already present)
#   scripts/check-image.sh --stand-in-base # first builds a local stand-in for node:20-bookworm-slim
#                                          # (Debian bookworm by debootstrap + this machine's Node 20),
#                                          # for machines that can reach Debian and npm but no registry
#
# Needs docker (DOCKER_HOST is honoured) and curl; --stand-in-base also needs root and debootstrap.
# The end-to-end suite (test/e2e/container.e2e.ts) checks the same runtime without an engine.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=twofold:check
name=twofold-check-$$
volume=twofold-check-$$

if [ "${1:-}" = --stand-in-base ]; then
  if docker image inspect node:20-bookworm-slim >/dev/null 2>&1; then
    echo "node:20-bookworm-slim is already present; not replacing it" >&2
  else
    rootfs=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian
    node_bin=$(command -v node); npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include" "$rootfs/usr/local/etc"
    cp "$node_bin" "$rootfs/usr/local/bin/node"
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    # node-gyp compiles against these headers instead of downloading them from nodejs.org.
    [ -d /usr/include/node ] && cp -a /usr/include/node "$rootfs/usr/local/include/node" && echo 'nodedir=/usr/local' > "$rootfs/usr/local/etc/npmrc"
    # The certificate authorities this machine trusts (a TLS-inspecting egress proxy, say).
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    # The official image's user: uid and gid 1000, named node.
    chroot "$rootfs" groupadd --gid 1000 node
    chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
      -c 'CMD ["node"]' - node:20-bookworm-slim
    rm -rf "$rootfs"
  fi
fi

cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The classic builder uses a base image that is present without asking a registry.
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build -t "$tag" .

echo "--- without secrets the image refuses to start, saying what to set"
if docker run --rm "$tag" >/tmp/$name.out 2>&1; then echo "FAIL: started without secrets" >&2; exit 1; fi
grep -q 'NODE_ENV=production needs JWT_SECRET' /tmp/$name.out && rm -f /tmp/$name.out

echo "--- no compiler in the image; it runs as node"
docker run --rm --entrypoint sh "$tag" -c '! command -v g++ && ! command -v make && [ "$(id -un)" = node ]'

echo "--- start, wait for the HEALTHCHECK"
docker volume create "$volume" >/dev/null
docker run -d --name "$name" -p 127.0.0.1::3000 -v "$volume:/data" --health-interval 2s \
  -e JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  -e ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" "$tag" >/dev/null
status=starting
for _ in $(seq 1 60); do
  status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
  [ "$status" = healthy ] && break
  sleep 1
done
[ "$status" = healthy ] || { docker logs "$name" >&2; echo "FAIL: health is $status" >&2; exit 1; }
base="http://$(docker port "$name" 3000/tcp | head -1)"

echo "--- register and sign in at $base"
json='content-type: application/json'
curl -fsS "$base/readyz"; echo
curl -fsS "$base/api/auth/register" -H "$json" -d '{"username":"imagecheck","password":"correct horse battery staple"}' >/dev/null
curl -fsS "$base/api/auth/login" -H "$json" -d '{"username":"imagecheck","password":"correct horse battery staple"}' | grep -q access_token
curl -fsS -o /dev/null "$base/app/"
docker exec "$name" test -f /data/twofold.db

echo "--- SIGTERM stops it cleanly"
docker stop "$name" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$name")" = 0 ]
echo "image check passed"
