# The example protected service (examples/protected-service) as an image, for compose.yaml.
# Build from the project root: podman build -f deploy/compose/protected-service.Dockerfile .
# Its dependency layer is the server's (same instructions, same files): built once.
ARG BASE=node:24-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
ENV PRISMA_HIDE_UPDATE_MESSAGE=1
COPY package.json package-lock.json prisma.config.ts tsconfig.json ./
COPY scripts/prisma-generate.js ./scripts/
COPY prisma/schema.prisma ./prisma/
COPY packages ./packages
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi; \
    npm ci --no-audit --no-fund
COPY scripts/prune-optional-peers.js ./scripts/
COPY examples/protected-service ./examples/protected-service
RUN npx tsc -p examples/protected-service \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && node scripts/prune-optional-peers.js \
 && rm -rf packages/*/src packages/*/tsconfig*.json packages/*/dist/.tsbuildinfo

FROM ${BASE}
RUN command -v tini >/dev/null || (apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*)
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/examples/protected-service/dist ./dist
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000
USER nobody
EXPOSE 4000
ENTRYPOINT ["tini", "--"]
CMD ["node", "dist/main.js"]
