# The auth server as a container image (docs/deployment.md).
#
#   podman build -t nest-auth-backend .        (or docker build)
#   docker run -p 3000:3000 -e DATABASE_URL=… -e AUTH_SECRET=… -e APP_URL=… --read-only nest-auth-backend
#
# BASE is the official Node 24 image; CI substitutes an equivalent it makes from Debian's
# packages (.ci/image-smoke), as no container registry is reachable there.
ARG BASE=node:24-bookworm-slim

# ── build: every dependency, the server, the console, the workspace packages ──────────
FROM ${BASE} AS build
WORKDIR /app
ENV PRISMA_HIDE_UPDATE_MESSAGE=1
# What `npm ci` and its postinstall (prisma generate, then the workspace packages) read,
# first: the dependency layer is rebuilt only when one of these changes.
COPY package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY scripts/prisma-generate.js ./scripts/
COPY prisma/schema.prisma ./prisma/
COPY packages ./packages
# Behind a TLS-inspecting proxy (as on our CI), pass its CA bundle as a build secret:
# `--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`. It is used by npm here and is in no layer.
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --no-audit --no-fund
COPY . .
# Then production dependencies only: not dev, and not what only optional peers reach
# (scripts/prune-optional-peers.js: the Prisma CLI and its studio, Express); of Prisma's query
# compilers only PostgreSQL's (the generated client loads that one); the workspace packages
# without their sources.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/prune-optional-peers.js \
 && find node_modules/@prisma/client/runtime -name 'query_compiler_*' ! -name 'query_compiler_fast_bg.postgresql.*' -delete \
 && rm -rf packages/*/src packages/*/tsconfig*.json packages/*/dist/.tsbuildinfo

# ── run: production dependencies and the build, owned by root, read by a user that is not ──
FROM ${BASE}
# tini as PID 1: it forwards SIGTERM to node (which stops gracefully and exits 0) and reaps
# children. The official image lacks it (Debian has it); CI's base brings it.
RUN command -v tini >/dev/null || (apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*); \
    groupadd --gid 10001 auth \
 && useradd --uid 10001 --gid auth --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin auth \
 && mkdir -p /data && chown auth:auth /data && chmod 700 /data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma/migrations ./prisma/migrations
COPY --from=build /app/mail-templates ./mail-templates
# No secret here: AUTH_SECRET, DATABASE_URL, SMTP_URL… come from the environment at run time.
# DATA_DIR is the only place the server writes (the embedded database, development mail):
# a volume, so that the root filesystem can be read-only.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
VOLUME ["/data"]
USER auth
EXPOSE 3000
# The base has no curl: node's fetch. 200 while the database answers (GET /health).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["tini", "--"]
# Applies pending migrations (under PostgreSQL's advisory lock), then serves.
CMD ["node", "dist/main.js"]
