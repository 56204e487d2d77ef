/**
 * Issue 4's figures: catalog reads through the whole architecture with a seeded catalog —
 * p50/p99 of a text search within a category subtree, `GET /products?q=<word>&categoryId=<id>&page=1`,
 * and of `GET /products/:id`, sequential, after warm-up — plus the seed's own duration and the
 * PostgreSQL plan of the search (EXPLAIN ANALYZE, BUFFERS), which must use the trigram indexes.
 *
 *   npm run bench:catalog -- [--products 10000] [--requests 1000] [--warmup 200]
 *                            [--q headlamp] [--category "Outdoor & Sports"] [--port-base 28000]
 *
 * Starts its own broker (unless KAFKA_BROKERS is set), database (mart_bench_catalog, recreated;
 * BENCH_DATABASE_URL overrides) and db/brand/category/product services at port-base + 11/4/5/6.
 * Prints a table and writes bench/results/catalog-<time>.json.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '@mart/common/logger';
import { mart } from '@mart/proto';
import { Prisma, createDatabase } from '../db-service/src/database.ts';
import { productSearchQuery } from '../db-service/src/handlers/product.search.ts';
import { saveResults } from '../tools/results.ts';
import { withRpcClient } from '../tools/rpc.ts';
import { seedCatalog } from '../tools/seed.ts';
import { startBenchStack } from './bench.stack.ts';
import { timeSequential, type LatencySummary } from './stats.ts';

const { values } = parseArgs({
  options: {
    products: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '200' },
    q: { type: 'string', default: 'headlamp' },
    category: { type: 'string', default: 'Outdoor & Sports' },
    'port-base': { type: 'string', default: '28000' },
  },
});
const products = Number(values.products);
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const portBase = Number(values['port-base']);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mart_bench_catalog';

const { stack, stop } = await startBenchStack({
  name: 'catalog',
  databaseUrl,
  services: ['db-service', 'brand-service', 'category-service', 'product-service'],
  ports: { 'db-service': portBase + 11, 'brand-service': portBase + 4, 'category-service': portBase + 5, 'product-service': portBase + 6 },
  kafkaPort: portBase + 1192,
  allowExternalKafka: true,
});
const { prisma } = createDatabase(databaseUrl, 2);

try {
  // An import batch of a large catalog can take longer than the usual 10 s.
  const rpcSetup = { brokers: stack.brokers, service: 'bench-catalog', timeoutMs: 60_000, logger: createLogger('bench', 'warn') };
  const seed = await withRpcClient(rpcSetup, (rpc) =>
    seedCatalog(rpc, { products, concurrency: 4, seed: 42, log: (line) => console.log(`seed: ${line}`) }),
  );
  const categoryId = seed.categoryIds.get(values.category);
  if (!categoryId) throw new Error(`no category named "${values.category}" in the seed`);

  const productUrl = stack.urls['product-service']!;
  const searchUrl = `${productUrl}/products?q=${encodeURIComponent(values.q)}&categoryId=${categoryId}&page=1`;
  const firstPage = (await (await fetch(searchUrl)).json()) as { total: number; items: { id: string }[] };
  if (firstPage.total === 0) throw new Error(`the search ${searchUrl} finds nothing: pick another --q or --category`);
  // Reads cycle through many products, so they are not all one cached row.
  const sample = (await (await fetch(`${productUrl}/products?pageSize=100&sort=-createdAt`)).json()) as { items: { id: string }[] };
  const ids = sample.items.map((item) => item.id);

  const expectOk = async (url: string) => {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`${url}: unexpected status ${response.status}`);
    await response.arrayBuffer();
  };
  const results: Record<string, LatencySummary> = {};
  results[`GET /products?q=${values.q}&categoryId=<${values.category}>&page=1`] = await timeSequential(requests, warmup, () =>
    expectOk(searchUrl),
  );
  let next = 0;
  results['GET /products/:id'] = await timeSequential(requests, warmup, () =>
    expectOk(`${productUrl}/products/${ids[next++ % ids.length]}`),
  );

  // Exactly the SQL product.list runs for that request (page 1 of 20, default sort, active only).
  const query = productSearchQuery(
    mart.product.ListProducts.create({
      page: { page: 1, pageSize: 20 },
      q: values.q,
      categoryId,
      sort: mart.product.ProductSort.PRODUCT_SORT_NAME,
    }),
  );
  const explain = async (sql: Prisma.Sql) =>
    (await prisma.$queryRaw<{ 'QUERY PLAN': string }[]>(Prisma.sql`EXPLAIN (ANALYZE, BUFFERS) ${sql}`)).map((row) => row['QUERY PLAN']);
  const plan = await explain(query.page);
  const totalPlan = await explain(query.total);
  const indexes = ['products_name_trgm_idx', 'products_description_trgm_idx'].filter((index) => plan.some((line) => line.includes(index)));

  console.log(
    `\nCatalog reads, ${products} products, ${requests} sequential requests after ${warmup} warm-up, ${os.cpus().length} cores\n`,
  );
  console.log(`seed: ${seed.created} products (+${seed.brands} brands, ${seed.categories} categories) in ${(seed.ms / 1000).toFixed(1)} s`);
  console.log(`search matches ${firstPage.total} products\n`);
  console.table(
    Object.fromEntries(
      Object.entries(results).map(([name, s]) => [
        name,
        { 'p50 ms': s.p50, 'p90 ms': s.p90, 'p99 ms': s.p99, 'max ms': s.max, 'mean ms': s.mean },
      ]),
    ),
  );
  console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of the search's page query:\n${plan.join('\n')}\n`);
  console.log(
    `and of its total: ${totalPlan
      .filter((line) => /Scan|Execution Time/.test(line))
      .map((line) => line.trim())
      .join(' | ')}\n`,
  );
  console.log(indexes.length > 0 ? `trigram index used: ${indexes.join(', ')}` : 'WARNING: the search did not use the trigram indexes');

  saveResults('catalog', { products, requests, warmup, q: values.q, category: values.category, seedMs: seed.ms, results, plan });
  if (indexes.length === 0) process.exitCode = 1;
} finally {
  await prisma.$disconnect();
  await stop();
}
