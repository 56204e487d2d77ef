#!/bin/sh
# Stand-in for Prisma's native schema-engine binary, which cannot be downloaded here.
# `prisma generate`, `validate` and `format` only need PRISMA_SCHEMA_ENGINE_BINARY to point at an
# executable; any command that really needs the engine ends up here and fails loudly (with
# /bin/true instead, `prisma migrate deploy` and `migrate diff` would silently do nothing).
cat >&2 <<'MSG'
error: Prisma's native schema engine is not available on this machine (it is downloaded from
Prisma's servers, which are unreachable). Use the project's offline tools instead (in db-service):
  npm run migrate            apply prisma/migrations to $DATABASE_URL   (src/migrate.ts)
  npm run migration:create -- <name>   write the next migration from schema.prisma
  npm run migration:check    check that the migrations produce schema.prisma
MSG
exit 1
