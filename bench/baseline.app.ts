/**
 * Baseline B1 of `npm run bench`: a minimal Express app that answers W1 and W2 by calling
 * db-service's own product handlers with a Prisma client in its own process, with no Kafka and
 * no second hop, so the SQL is exactly Mart's. Run as a child process on the same database.
 *
 *   DATABASE_URL=... PORT=29020 DB_POOL_SIZE=10 tsx bench/baseline.app.ts
 */
import express from 'express';
import { NotFoundError } from '@mart/common/errors';
import { mart } from '@mart/proto';
import { dbServiceConfigSchema, handlerSettings } from '../db-service/src/config.ts';
import { createDatabase } from '../db-service/src/database.ts';
import { queryContext } from '../db-service/src/command.executor.ts';
import type { HandlerContext } from '../db-service/src/handler.ts';
import { productHandlers } from '../db-service/src/handlers/product.handlers.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');
const database = createDatabase(databaseUrl, Number(process.env.DB_POOL_SIZE ?? 10));
const settings = handlerSettings(dbServiceConfigSchema.parse({}));
const getProduct = productHandlers['product.get']!;
const listProducts = productHandlers['product.list']!;

const context = (): HandlerContext =>
  queryContext(database, { commandId: '', requestId: undefined, deadline: Date.now() + 10_000 }, 'product.get', settings);

const app = express();
app.disable('x-powered-by');
app.get('/ready', (_request, response) => void response.json({ ready: true }));
app.get('/products/:id', async (request, response) => {
  try {
    response.json(await getProduct(mart.product.GetProduct.create({ id: request.params.id, includeInactive: false }), context()));
  } catch (error) {
    response.status(error instanceof NotFoundError ? 404 : 500).json({ error: String(error) });
  }
});
app.get('/products', async (request, response) => {
  const text = (name: string) => (typeof request.query[name] === 'string' ? request.query[name] : undefined);
  const input = mart.product.ListProducts.create({
    page: { page: Number(text('page') ?? 1), pageSize: Number(text('pageSize') ?? 20) },
    q: text('q'),
    categoryId: text('categoryId'),
    sort: mart.product.ProductSort.PRODUCT_SORT_NAME,
  });
  try {
    response.json(await listProducts(input, context()));
  } catch (error) {
    response.status(500).json({ error: String(error) });
  }
});
app.listen(Number(process.env.PORT ?? 29020), '127.0.0.1');
// An orderly exit on SIGTERM, so `node --cpu-prof` (bench --profile) writes the profile.
process.once('SIGTERM', () => process.exit(0));
