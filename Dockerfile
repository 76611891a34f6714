# syntax=docker/dockerfile:1
# Porthole in a container. Untested on our CI machine (it has no Docker daemon); see docs/deployment.md.
#   docker build -t porthole .
#   docker run --init -p 127.0.0.1:8080:8080 -v ./porthole.yaml:/etc/porthole/porthole.yaml:ro \
#     -v porthole-data:/var/lib/porthole --stop-timeout 30 porthole
# The config must set `dataDir: /var/lib/porthole` and keep 127.0.0.1 in network.allow (the healthcheck;
# /healthz needs no sign-in, even with auth:, but it does pass the network allowlist).
# --init reaps processes that operator commands leave orphaned; --stop-timeout outlasts the shutdown grace.

# Every stage starts from the same image, so the native better-sqlite3 module built in
# `deps` matches the runtime's Node ABI and glibc.
FROM node:20-bookworm-slim AS base
WORKDIR /opt/porthole

# node-gyp's toolchain: for Porthole's posix_spawn module (built by npm ci's install script),
# and for better-sqlite3 when it has no prebuilt binary for this platform.
FROM base AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY native/spawn/binding.gyp native/spawn/spawn.c native/spawn/build.mjs ./native/spawn/

FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM toolchain AS deps
RUN npm ci --omit=dev --no-audit --no-fund

FROM base
ENV NODE_ENV=production
# A fixed uid, so a bind-mounted data directory can be chowned to it (chown 10001 DIR).
RUN groupadd --system --gid 10001 porthole \
 && useradd --system --uid 10001 --gid porthole --home-dir /var/lib/porthole --shell /usr/sbin/nologin porthole \
 && install -d -o porthole -g porthole -m 0700 /var/lib/porthole
COPY package.json ./
COPY --from=deps /opt/porthole/node_modules ./node_modules
COPY --from=build /opt/porthole/dist ./dist
COPY --from=deps /opt/porthole/native/spawn/build/Release/porthole_spawn.node ./native/spawn/build/Release/
# The pages' script and styles are served from src/web at run time.
COPY src/web ./src/web
USER porthole
EXPOSE 8080
VOLUME /var/lib/porthole
# Porthole stops gracefully on SIGTERM, within server.shutdownGrace plus a command's
# killGrace (15s by default). Docker sends SIGKILL after only 10s unless told otherwise:
# run with --stop-timeout 30 (compose: stop_grace_period: 30s).
STOPSIGNAL SIGTERM
# The slim image has no curl; Node 20 has fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "--no-maglev", "/opt/porthole/dist/cli/main.js"]
CMD ["serve", "-c", "/etc/porthole/porthole.yaml", "--listen", "0.0.0.0:8080"]
