# One image recipe for every Mart service: `docker build --build-arg SERVICE=brand-service .`
# Stages: install dependencies → generate protobuf and Prisma code → slim non-root runtime.

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
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && npm install --no-save --no-audit --no-fund tsx@4.23.15

FROM node:20-bookworm-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=10 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node --import tsx ${SERVICE}/src/main.ts"]
