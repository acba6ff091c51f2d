// The producer's own CSV reader against csv-parse, which it hands every record that is not plain:
// on generated files full of odd rows (quotes in every position, quoted newlines, CR and CRLF line
// ends, blank lines, a BOM, multi-byte text, an unclosed quote at the end), read in small chunks so
// that records straddle them, every item (fields, line, raw text, end byte, syntax message) and every
// error must be exactly what csv-parse alone gives.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { openCsv, PlainRecord, type CsvItem } from '../../services/producer/csv-source';

const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-csv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An item as what it says (a PlainRecord keeps its text as bytes until asked): comparable with deepEqual. */
const said = (item: CsvItem): CsvItem => (item.kind === 'record' ? { kind: 'record', fields: item.fields, line: item.line, raw: item.raw, endByte: item.endByte } : item);

async function readAll(file: string, plainReader: boolean, chunkBytes: number): Promise<{ header?: string[]; items: CsvItem[]; error?: string }> {
  const items: CsvItem[] = [];
  try {
    const source = await openCsv(file, { plainReader, chunkBytes });
    for await (const item of source.items) items.push(said(item));
    return { header: source.header, items };
  } catch (error) {
    return { items, error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** A random CSV: mostly plain rows, with odd ones mixed in at a given rate. */
function randomCsv(random: () => number, rows: number, oddRate: number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const plainField = (): string => pick(['', 'view', '12.50', 'électronique', 'a b', '€', '2019-10-01 00:00:00 UTC', 'x'.repeat(Math.floor(random() * 30))]);
  const oddField = (): string => pick(['"apple, inc"', '"multi\nline"', '"say ""hi"""', '""', 'b"c', '"b"c', '"unclosed', 'a\rb', '"cr\r\nlf"', '"€"', '" x "']);
  const ending = (): string => (random() < oddRate ? pick(['\r\n', '\r', '\n\n', '\n\r\n']) : '\n');
  const fields = (): string => Array.from({ length: 1 + Math.floor(random() * 5) }, () => (random() < oddRate ? oddField() : plainField())).join(',');
  let text = random() < 0.2 ? '\uFEFF' : '';
  text += random() < oddRate ? fields() : 'a,b,c';
  text += random() < 0.1 ? '\r\n' : '\n';
  for (let i = 0; i < rows; i++) text += fields() + ending();
  if (random() < 0.3) text = text.replace(/\n$/, '');
  return text;
}

describe('the plain CSV reader', () => {
  it('gives exactly what csv-parse gives, item by item and error by error, on odd files in small chunks', async () => {
    const random = generator(16);
    let compared = 0;
    for (let n = 0; n < 300; n++) {
      const text = randomCsv(random, 1 + Math.floor(random() * 40), n % 3 === 0 ? 0 : n % 3 === 1 ? 0.02 : 0.2);
      const file = path.join(dir, `f${n}.csv${n % 10 === 0 ? '.gz' : ''}`);
      writeFileSync(file, n % 10 === 0 ? gzipSync(text) : text);
      const chunkBytes = [16, 64, 1000][n % 3]!;
      const [ours, reference] = await Promise.all([readAll(file, true, chunkBytes), readAll(file, false, 1 << 16)]);
      assert.deepEqual(ours, reference, `file ${n}: ${JSON.stringify(text)}`);
      compared += reference.items.length;
    }
    assert.ok(compared > 3000, `only ${compared} items compared`);
  });

  it('reads plain files in the fast gear, odd rows and all, with line numbers and end bytes', async () => {
    const file = path.join(dir, 'plain.csv');
    writeFileSync(file, 'a,b,c\n1,"x, ""y""",3\n\n4,"two\nlines",6\n7,8,9');
    const source = await openCsv(file, { chunkBytes: 8 });
    const items = [];
    for await (const item of source.items) items.push(item);
    assert.deepEqual(items.map((i) => [i.kind, i.kind === 'record' ? i.fields : [], i.line, i.endByte]), [
      ['record', ['1', 'x, "y"', '3'], 2, 21], ['record', ['4', 'two\nlines', '6'], 4, 38], ['record', ['7', '8', '9'], 6, 43],
    ]);
  });

  it('hands over the records in batches: all those read so far at once, one at a time after csv-parse takes over', async () => {
    const file = path.join(dir, 'batches.csv');
    const rows = Array.from({ length: 200 }, (_, i) => `${i},x${i},${i * 2}`);
    writeFileSync(file, `a,b,c\n${rows.join('\n')}\n1,"odd"x,2\n3,4,5\n`);
    const batchesOf = async (chunkBytes: number): Promise<CsvItem[][]> => {
      const source = await openCsv(file, { chunkBytes });
      const batches: CsvItem[][] = [];
      for await (const batch of source.batches) batches.push(batch.map(said));
      return batches;
    };
    const source = await openCsv(file);
    const [first] = await source.batches[Symbol.asyncIterator]().next().then((r) => r.value as CsvItem[]);
    source.close();
    // A record without quotes keeps its text as bytes: what a reader of bytes (the REES46 encoder) reads.
    assert.ok(first instanceof PlainRecord);
    assert.equal(first.text.toString('utf8', first.start, first.end), '0,x0,0');
    assert.deepEqual([first.raw, first.fields, first.line], ['0,x0,0', ['0', 'x0', '0'], 2]);
    const whole = await batchesOf(1 << 20);
    // The plain rows in one batch (the file is one read), then csv-parse's two records one by one.
    assert.deepEqual(whole.map((b) => b.length), [200, 1, 1]);
    const small = await batchesOf(256);
    assert.ok(small.length > 10, `${small.length} batches from 256-byte reads`);
    const reference = await readAll(file, false, 1 << 16);
    assert.deepEqual(whole.flat(), reference.items);
    assert.deepEqual(small.flat(), reference.items);
  });

  it('stops at an oversized record exactly as csv-parse does', async () => {
    const file = path.join(dir, 'big.csv');
    writeFileSync(file, `a,b\n1,2\n3,"${'x'.repeat(1_100_000)}\n5,6\n`);
    const [ours, reference] = await Promise.all([readAll(file, true, 65536), readAll(file, false, 65536)]);
    assert.deepEqual(ours, reference);
    assert.match(ours.error ?? '', /CsvUnreadableError: .* from line 3 on/);
  });
});
