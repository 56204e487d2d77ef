/**
 * `npm run seed`: fills a running Mart stack with a realistic catalog, so a new user sees something
 * at once and benchmarks have data: ~40 brands, a three-level category tree, products (default
 * 5000) with stock. It talks to db-service over Kafka (brand.create, category.create, and
 * product.import for products in batches), so every invariant and event applies; nothing is
 * written to the database directly.
 *
 *   npm run seed -- [--products 10000] [--concurrency 4] [--seed 42]
 *
 * KAFKA_BROKERS says where the stack's broker is (default 127.0.0.1:9092). Running it again is
 * safe: existing brands and categories are reused, and products are keyed by SKU (SEED-000001, ...),
 * so a larger --products only adds the missing ones.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { baseConfigSchema, instanceId, loadConfig } from '@mart/common/config';
import { ConflictError } from '@mart/common/errors';
import type { RpcClient } from '@mart/common/kafka';
import { createLogger } from '@mart/common/logger';
import { retryUntil } from '@mart/common/service';
import { withRpcClient } from './rpc.ts';

type Rpc = Pick<RpcClient, 'call'>;

export interface SeedOptions {
  products: number;
  /** Import batches in flight at once; db-service applies up to one per partition in parallel. */
  concurrency: number;
  /** Seeds the generator: the same seed gives the same catalog. */
  seed: number;
  log?: (line: string) => void;
}

export interface SeedResult {
  brands: number;
  categories: number;
  /** Products this run created (existing SKUs are skipped). */
  created: number;
  skipped: number;
  ms: number;
  /** Ids by category name, for benchmarks that filter by category. */
  categoryIds: Map<string, string>;
}

// prettier-ignore
const brandNames = [
  'Acme', 'Arbor', 'Blue Heron', 'Brightwave', 'Copperline', 'Corvid', 'Driftwood', 'Evergreen', 'Falcon', 'Foxglove',
  'Granite', 'Halcyon', 'Harbor', 'Ironwood', 'Juniper', 'Kestrel', 'Kodiak', 'Larkspur', 'Lumen', 'Marlin',
  'Meridian', 'Nimbus', 'Nordlys', 'Northstar', 'Orchid', 'Peregrine', 'Pinecrest', 'Quill', 'Redwood', 'Sable',
  'Solace', 'Summit', 'Tidewater', 'Tundra', 'Umber', 'Vantage', 'Vega', 'Vireo', 'Willow', 'Zephyr',
];

/** Top level → second level → leaves, each leaf with the nouns its products are named after. */
const categoryTree: Record<string, Record<string, Record<string, string[]>>> = {
  Electronics: {
    Audio: { Headphones: ['headphones', 'earbuds', 'headset'], Speakers: ['speaker', 'soundbar', 'subwoofer'] },
    Computers: { Laptops: ['laptop', 'notebook'], Monitors: ['monitor', 'display'], Keyboards: ['keyboard', 'keypad'] },
    Cameras: { 'Action Cameras': ['action camera'], Lenses: ['lens', 'zoom lens'] },
  },
  'Home & Kitchen': {
    Cookware: { Pans: ['frying pan', 'skillet', 'wok'], Pots: ['stock pot', 'saucepan', 'dutch oven'] },
    'Small Appliances': { Kettles: ['kettle'], Blenders: ['blender', 'mixer'], 'Coffee Makers': ['espresso machine', 'coffee grinder'] },
    Furniture: { Chairs: ['chair', 'stool'], Desks: ['desk', 'standing desk'], Shelving: ['bookcase', 'shelf'] },
  },
  'Outdoor & Sports': {
    Camping: { Tents: ['tent', 'tarp', 'bivy'], 'Sleeping Bags': ['sleeping bag', 'quilt'], Stoves: ['camp stove', 'burner'] },
    Cycling: { Bikes: ['road bike', 'gravel bike', 'mountain bike'], Helmets: ['helmet'], Lights: ['bike light', 'headlamp'] },
    Fitness: { Weights: ['dumbbell', 'kettlebell'], Yoga: ['yoga mat', 'foam roller'] },
  },
  Fashion: {
    Shoes: { 'Running Shoes': ['running shoe', 'trail shoe'], Boots: ['hiking boot', 'winter boot'] },
    Outerwear: { Jackets: ['rain jacket', 'down jacket', 'fleece'], Gloves: ['gloves', 'mittens'] },
    Bags: { Backpacks: ['backpack', 'daypack'], Luggage: ['suitcase', 'duffel'] },
  },
  'Toys & Games': {
    Games: { 'Board Games': ['board game', 'card game'], Puzzles: ['jigsaw puzzle', 'puzzle box'] },
    Building: { 'Building Sets': ['building set', 'construction kit'] },
  },
};

// prettier-ignore
const adjectives = [
  'Classic', 'Compact', 'Pro', 'Ultra', 'Lite', 'Everyday', 'Premium', 'Rugged', 'Wireless', 'Foldable',
  'Heritage', 'Studio', 'Trail', 'Urban', 'Essential', 'Performance', 'Signature', 'Eco', 'Smart', 'Travel',
];
// prettier-ignore
const materials = [
  'aluminium', 'bamboo', 'cast iron', 'ceramic', 'canvas', 'carbon fibre', 'cork', 'merino wool', 'recycled nylon',
  'stainless steel', 'titanium', 'walnut', 'oak', 'silicone', 'organic cotton', 'leather', 'ripstop polyester', 'glass',
];
// prettier-ignore
const features = [
  'a two-year warranty', 'a lifetime guarantee', 'quick-release buckles', 'a magnetic closure', 'reinforced seams',
  'a water-resistant finish', 'USB-C charging', 'a non-stick coating', 'noise cancelling', 'an ergonomic grip',
  'adjustable straps', 'a low-profile design', 'a detachable cable', 'replaceable parts', 'a machine-washable cover',
  'an insulated lining', 'a carrying pouch', 'a 30-hour battery', 'a dishwasher-safe body', 'reflective details',
];
const uses = [
  'everyday use',
  'weekend trips',
  'small apartments',
  'busy kitchens',
  'long commutes',
  'cold mornings',
  'the office',
  'beginners',
];
const colours = ['black', 'slate', 'forest green', 'sand', 'navy', 'rust', 'white', 'olive', 'charcoal', 'red'];

const importBatchSize = 500;

/** mulberry32: a small seeded generator, so one seed always gives the same catalog. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function ensureBrand(rpc: Rpc, name: string): Promise<string> {
  try {
    const brand = await rpc.call('brand.create', { id: randomUUID(), name, description: `${name} makes things people keep for years.` });
    return brand.id;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const found = await rpc.call('brand.list', { page: { page: 1, pageSize: 100 }, q: name });
    const brand = found.items.find((item) => item.name?.toLowerCase() === name.toLowerCase());
    if (!brand?.id) throw new Error(`brand "${name}" exists but could not be found`, { cause: error });
    return brand.id;
  }
}

async function ensureCategory(rpc: Rpc, name: string, parentId: string | undefined): Promise<string> {
  try {
    return (await rpc.call('category.create', { id: randomUUID(), name, parentId })).id;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const siblings = await rpc.call('category.list', { page: { page: 1, pageSize: 100 }, parentId, rootsOnly: !parentId });
    const category = siblings.items.find((item) => item.name?.toLowerCase() === name.toLowerCase());
    if (!category?.id) throw new Error(`category "${name}" exists but could not be found`, { cause: error });
    return category.id;
  }
}

interface Leaf {
  id: string;
  nouns: string[];
}

async function seedCategories(rpc: Rpc, categoryIds: Map<string, string>): Promise<Leaf[]> {
  const leaves: Leaf[] = [];
  for (const [top, middles] of Object.entries(categoryTree)) {
    const topId = await ensureCategory(rpc, top, undefined);
    categoryIds.set(top, topId);
    for (const [middle, leafNouns] of Object.entries(middles)) {
      const middleId = await ensureCategory(rpc, middle, topId);
      categoryIds.set(middle, middleId);
      for (const [leaf, nouns] of Object.entries(leafNouns)) {
        const id = await ensureCategory(rpc, leaf, middleId);
        categoryIds.set(leaf, id);
        leaves.push({ id, nouns });
      }
    }
  }
  return leaves;
}

/** The n-th product of the catalog: the same n and seed always give the same product. */
function productAt(n: number, seed: number, brands: { id: string; name: string }[], leaves: Leaf[]) {
  const next = random(seed * 1_000_003 + n);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const brand = pick(brands);
  const leaf = pick(leaves);
  const noun = pick(leaf.nouns);
  const adjective = pick(adjectives);
  const material = pick(materials);
  const model = `${String.fromCharCode(65 + Math.floor(next() * 26))}${100 + Math.floor(next() * 900)}`;
  const name = `${brand.name} ${adjective} ${noun[0]!.toUpperCase()}${noun.slice(1)} ${model}`;
  const article = /^[aeiou]/i.test(adjective) ? 'An' : 'A';
  const description =
    `${article} ${adjective.toLowerCase()} ${noun} in ${pick(colours)}, made of ${material}, with ${pick(features)} and ${pick(features)}. ` +
    `Built for ${pick(uses)}.`;
  // Log-uniform prices from $5 to $2000 that end in 99 cents, as shop prices do.
  const priceCents = Math.round(Math.exp(Math.log(500) + next() * (Math.log(200_000) - Math.log(500))) / 100) * 100 + 99;
  const stock = next();
  const onHand = stock < 0.15 ? 0 : Math.floor(1 + next() * 250); // ~15% sold out
  const active = next() >= 0.03; // ~3% withdrawn from sale
  return {
    sku: `SEED-${String(n).padStart(6, '0')}`,
    name,
    description,
    priceCents,
    brandId: brand.id,
    categoryId: leaf.id,
    active,
    onHand,
  };
}

/** Runs `work` for 0..count-1 with `concurrency` of them in flight. */
async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export async function seedCatalog(rpc: Rpc, options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? console.log;
  const started = performance.now();
  const brands: { id: string; name: string }[] = [];
  for (const name of brandNames) brands.push({ id: await ensureBrand(rpc, name), name });
  log(`${brands.length} brands`);
  const categoryIds = new Map<string, string>();
  const leaves = await seedCategories(rpc, categoryIds);
  log(`${categoryIds.size} categories (${leaves.length} leaves, 3 levels)`);

  // One command per product (plus one for its stock) managed ~40 products/s; an import batch is
  // one transaction, and db-service skips the SKUs it already has.
  let created = 0;
  let skipped = 0;
  const batches = Math.ceil(options.products / importBatchSize);
  await inParallel(batches, options.concurrency, async (batch) => {
    const first = batch * importBatchSize + 1;
    const last = Math.min(options.products, first + importBatchSize - 1);
    const products = [];
    for (let n = first; n <= last; n++) {
      const { onHand, ...product } = productAt(n, options.seed, brands, leaves);
      products.push({ product: { id: randomUUID(), ...product, currency: 'USD' }, onHand });
    }
    const result = await rpc.call('product.import', { products });
    created += result.created;
    skipped += result.skipped;
    log(`${created + skipped} / ${options.products} products`);
  });
  const ms = performance.now() - started;
  log(`${created} products created, ${skipped} already there, in ${(ms / 1000).toFixed(1)} s`);
  return { brands: brands.length, categories: categoryIds.size, created, skipped, ms, categoryIds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      products: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '4' },
      seed: { type: 'string', default: '42' },
    },
  });
  const options = { products: Number(values.products), concurrency: Number(values.concurrency), seed: Number(values.seed) };
  for (const [name, value] of Object.entries(options)) {
    if (!Number.isInteger(value) || value < (name === 'products' ? 0 : 1)) throw new Error(`--${name} must be a whole number`);
  }
  const config = loadConfig(baseConfigSchema.extend({ LOG_LEVEL: baseConfigSchema.shape.LOG_LEVEL.default('warn') }));
  const logger = createLogger('seed', config.LOG_LEVEL);
  console.log(`Seeding the catalog through db-service at ${config.KAFKA_BROKERS.join(',')} ...`);
  const setup = { brokers: config.KAFKA_BROKERS, service: 'seed', instanceId: instanceId(config), timeoutMs: 30_000, logger };
  await withRpcClient(setup, async (rpc) => {
    await retryUntil('waiting for db-service', logger, async () => {
      const pong = await rpc.call('system.ping', {}, { timeoutMs: 2000 });
      if (!pong.database) throw new Error('db-service has no database connection');
    });
    await seedCatalog(rpc, options);
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
