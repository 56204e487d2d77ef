# One image recipe for every Mart service: `docker build --build-arg SERVICE=brand-service .`
# Stages: install dependencies → generate code and bundle each service (tools/build.ts) → slim
# non-root runtime that runs the bundle with plain node: no TypeScript loader, no dev dependencies.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY common/package.json common/
COPY db-service/package.json db-service/
COPY auth-service/package.json auth-service/
COPY user-service/package.json user-service/
COPY customer-service/package.json customer-service/
COPY brand-service/package.json brand-service/
COPY category-service/package.json category-service/
COPY product-service/package.json product-service/
COPY order-service/package.json order-service/
COPY payment-service/package.json payment-service/
COPY inventory-service/package.json inventory-service/
COPY notification-service/package.json notification-service/
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
# The packages the bundle leaves external, and the service's folder: dist/main.js, the package.json
# that makes it an ES module, and for db-service prisma/migrations, which it applies at start.
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/${SERVICE} ${SERVICE}
USER node
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=10 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The node flags are SERVICE_NODE_FLAGS of tools/stack.ts (tools/test/compose.unit.test.ts checks).
CMD ["sh", "-c", "exec node --max-semi-space-size=2 ${SERVICE}/dist/main.js"]
