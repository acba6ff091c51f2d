// A REES46-schema file of any size, fast: one generated block (with its malformed rows) written
// again and again, each copy's session ids made its own, so the file's size costs disk writes
// rather than generation. The producer's eventIds (`<file>:<line>`) differ anyway, line by line.
// Run as a script (`node --import tsx test/support/repeated-csv.ts FILE MIN_BYTES ROWS SEED
// MALFORMED_RATE`, printing the summary as JSON) it keeps the generation out of a test's own memory.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { generatedHeader, generateRows, type GenerateOptions } from '../../services/producer/generator';

export interface RepeatedCsv {
  rows: number;
  malformed: number;
  bytes: number;
}

/** Writes header and copies of a generated block until the file holds at least `minBytes`. */
export async function writeRepeatedCsv(file: string, minBytes: number, block: GenerateOptions): Promise<RepeatedCsv> {
  const rows = [...generateRows(block)];
  const malformedPerCopy = rows.filter((r) => r.malformed).length;
  const out = createWriteStream(file);
  const summary: RepeatedCsv = { rows: 0, malformed: 0, bytes: 0 };
  const write = async (text: string): Promise<void> => {
    summary.bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${generatedHeader}\n`);
  for (let copy = 0; summary.bytes < minBytes; copy++) {
    // A good row ends with its session's UUID (36 characters): its first 8 hex digits become the copy's number.
    const prefix = copy.toString(16).padStart(8, '0');
    let chunk = '';
    for (const row of rows) {
      chunk += row.malformed ? `${row.text}\n` : `${row.text.slice(0, -36)}${prefix}${row.text.slice(-28)}\n`;
      if (chunk.length >= 1 << 20) {
        await write(chunk);
        chunk = '';
      }
    }
    await write(chunk);
    summary.rows += rows.length;
    summary.malformed += malformedPerCopy;
  }
  out.end();
  await finished(out);
  return summary;
}

if (require.main === module) {
  const [file, minBytes, rows, seed, malformedRate] = process.argv.slice(2);
  if (!file || [minBytes, rows, seed, malformedRate].some((n) => n === undefined || !Number.isFinite(Number(n)))) {
    process.stderr.write('usage: repeated-csv.ts FILE MIN_BYTES ROWS SEED MALFORMED_RATE\n');
    process.exit(2);
  }
  writeRepeatedCsv(file, Number(minBytes), { rows: Number(rows), seed: Number(seed), malformedRate: Number(malformedRate) })
    .then((summary) => process.stdout.write(`${JSON.stringify(summary)}\n`), (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    });
}
