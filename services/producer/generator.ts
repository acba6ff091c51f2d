// Synthetic REES46-schema data: sessions of users browsing a category tree (view → cart → purchase,
// with removals and abandoned carts), Zipf-popular products and users, seeded so the same options
// give byte-identical output. Optional bounded out-of-order timestamps, late rows and malformed
// rows (each of a known reject reason) exercise the producer's and the consumer's edge cases.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { buildCatalog, type Catalog, type Product } from './catalog';
import { rees46Columns, type RejectReason } from './presets';
import { Random } from './random';

export interface GenerateOptions {
  rows: number;
  seed?: number;
  /** Event time of the first row, epoch ms (default 2019-10-01T00:00:00Z). */
  startTime?: number;
  /** Average events per second of event time (default 50). */
  eventsPerSecond?: number;
  /** Each timestamp moves back by up to this much: bounded disorder (default 0). */
  outOfOrderMs?: number;
  /** Share of rows whose timestamp is pushed back by lateByMs or more (default 0). */
  lateRate?: number;
  /** How far late rows lag behind (default one hour). */
  lateByMs?: number;
  /** Share of rows that are malformed, each with one of the malformedKinds (default 0). */
  malformedRate?: number;
}

export interface GeneratedRow {
  /** The CSV record, without line ending. */
  text: string;
  /** Line number in the file (the header is line 1). */
  line: number;
  /** The reason the producer must reject it with, or null for a good row. */
  malformed: RejectReason | null;
  late: boolean;
}

export const generatedHeader = rees46Columns.join(',');

export const malformedKinds = ['bad_time', 'bad_number', 'missing_field', 'column_count', 'unknown_event_type', 'negative_price'] as const satisfies readonly RejectReason[];

interface Session {
  id: string;
  user: string;
  category: number;
  remaining: number;
  viewed: Product[];
  cart: Product[];
}

/** Data rows (no header), lazily: memory does not grow with `rows`. */
export function* generateRows(options: GenerateOptions): Generator<GeneratedRow> {
  const random = new Random(options.seed ?? 1);
  const catalog = buildCatalog(random);
  const users = Math.max(1000, Math.floor(options.rows / 20));
  const sessions: Session[] = Array.from({ length: 64 }, () => newSession(random, catalog, users));
  const meanGapMs = 1000 / (options.eventsPerSecond ?? 50);
  const lateByMs = options.lateByMs ?? 3_600_000;
  let clock = options.startTime ?? Date.UTC(2019, 9, 1);
  for (let i = 0; i < options.rows; i++) {
    clock += random.exponential(meanGapMs);
    const slot = random.int(sessions.length);
    let session = sessions[slot]!;
    if (session.remaining <= 0) session = sessions[slot] = newSession(random, catalog, users);
    session.remaining--;
    const late = options.lateRate !== undefined && random.next() < options.lateRate;
    const disorder = options.outOfOrderMs ? random.next() * options.outOfOrderMs : 0;
    const time = Math.floor(clock - disorder - (late ? lateByMs + random.next() * lateByMs : 0));
    const { type, product } = nextAction(random, catalog, session);
    const fields = [formatTime(time), type, product.productId, product.categoryId, product.categoryCode, product.brand, product.price, session.user, session.id];
    const malformed = options.malformedRate !== undefined && random.next() < options.malformedRate ? random.pick(malformedKinds) : null;
    if (malformed) breakRow(fields, malformed, random);
    yield { text: fields.join(','), line: i + 2, malformed, late };
  }
}

function newSession(random: Random, catalog: Catalog, users: number): Session {
  return {
    id: random.uuid(),
    user: String(512_000_000 + random.zipf(users) * 13 + 7),
    category: random.weighted(catalog.categoryWeights),
    remaining: 1 + Math.floor(random.exponential(9)),
    viewed: [],
    cart: [],
  };
}

/** One step of the funnel: mostly views, some carts of viewed products, fewer purchases. */
function nextAction(random: Random, catalog: Catalog, s: Session): { type: string; product: Product } {
  const r = random.next();
  if (s.cart.length > 0 && r < 0.1) return { type: 'purchase', product: s.cart.splice(random.int(s.cart.length), 1)[0]! };
  if (s.cart.length > 0 && r < 0.11) return { type: 'remove_from_cart', product: s.cart.splice(random.int(s.cart.length), 1)[0]! };
  if (s.viewed.length > 0 && r < 0.14) {
    const product = s.viewed[s.viewed.length - 1 - random.int(Math.min(3, s.viewed.length))]!;
    s.cart.push(product);
    return { type: 'cart', product };
  }
  if (random.next() < 0.15) s.category = random.weighted(catalog.categoryWeights);
  const shelf = catalog.products[s.category]!;
  const product = shelf[random.zipf(shelf.length)]!;
  if (s.viewed.push(product) > 8) s.viewed.shift();
  return { type: 'view', product };
}

function breakRow(fields: string[], kind: (typeof malformedKinds)[number], random: Random): void {
  switch (kind) {
    case 'bad_time':
      fields[0] = random.pick(['2019-13-45 25:61:00 UTC', 'yesterday', '2019/10/01 00:00:00']);
      break;
    case 'bad_number':
      fields[6] = random.pick(['abc', '12.5.3', 'NaN', '1O.00']);
      break;
    case 'missing_field':
      fields[2] = '';
      break;
    case 'column_count':
      fields.splice(random.int(fields.length), 1);
      break;
    case 'unknown_event_type':
      fields[1] = random.pick(['wishlist', 'VIEW', 'click']);
      break;
    case 'negative_price':
      fields[6] = `-${fields[6]}`;
      break;
  }
}

/** REES46's `2019-10-01 00:00:04 UTC`. */
export function formatTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export interface GenerateSummary {
  rows: number;
  malformed: number;
  late: number;
  /** Bytes written to the file (compressed when gzip). */
  bytes: number;
}

/** Writes header and rows to a file (gzip when asked), honouring backpressure. */
export async function writeGeneratedCsv(file: string, options: GenerateOptions & { gzip?: boolean }): Promise<GenerateSummary> {
  const out = createWriteStream(file);
  const sink: Writable = options.gzip ? createGzip() : out;
  if (options.gzip) (sink as ReturnType<typeof createGzip>).pipe(out);
  const summary: GenerateSummary = { rows: 0, malformed: 0, late: 0, bytes: 0 };
  let chunk = `${generatedHeader}\n`;
  for (const row of generateRows(options)) {
    chunk += `${row.text}\n`;
    summary.rows++;
    if (row.malformed) summary.malformed++;
    if (row.late) summary.late++;
    if (chunk.length >= 64 * 1024) {
      if (!sink.write(chunk)) await once(sink, 'drain');
      chunk = '';
    }
  }
  sink.end(chunk);
  await finished(out);
  summary.bytes = out.bytesWritten;
  return summary;
}
