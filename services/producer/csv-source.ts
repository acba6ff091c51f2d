// Streams a CSV file (plain or gzip) as records with the line each starts on, pulling from disk only
// as fast as the caller consumes: memory stays flat whatever the file size. Records csv-parse cannot
// parse (an unclosed quote at the end) come out as syntax items in line order; an oversized record stops the read with CsvUnreadableError.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse, type Info } from 'csv-parse';

export type CsvItem =
  | { kind: 'record'; fields: string[]; line: number; raw: string }
  | { kind: 'syntax'; line: number; raw: string; message: string };

export interface CsvSource {
  header: string[];
  items: AsyncIterable<CsvItem>;
  /** Bytes taken from the file so far (compressed bytes for gzip): progress against totalBytes. */
  bytesRead(): number;
  totalBytes: number;
  gzip: boolean;
  /** Stops reading; safe to call at any time. */
  close(): void;
}

/** The file cannot be read past `line`: everything before it was delivered, nothing after it was read. */
export class CsvUnreadableError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file} cannot be read from line ${line} on: ${reason}; rows before it were processed, rows after it were not read`);
    this.name = 'CsvUnreadableError';
  }
}

/** A record larger than this stops the read, so an unclosed quote cannot pull the rest of a huge file into memory. */
export const maxRecordBytes = 1024 * 1024;

export async function isGzipFile(file: string): Promise<boolean> {
  if (file.endsWith('.gz')) return true;
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export async function openCsv(file: string): Promise<CsvSource> {
  const [gzip, { size }] = await Promise.all([isGzipFile(file), stat(file)]);
  const input: ReadStream = createReadStream(file, { highWaterMark: 256 * 1024 });
  const parser = parse({
    info: true, raw: true, bom: true, relax_column_count: true, relax_quotes: true,
    skip_empty_lines: true, skip_records_with_error: true, max_record_size: maxRecordBytes,
  });
  const stages: (Readable | NodeJS.WritableStream)[] = gzip ? [input, createGunzip(), parser] : [input, new PassThrough(), parser];
  const failure: { error?: Error } = {};
  pipeline(stages as [Readable, NodeJS.ReadWriteStream, NodeJS.WritableStream], (error) => {
    if (error && error.name !== 'AbortError' && !failure.error) failure.error = error;
  });
  const skipped: CsvItem[] = [];
  parser.on('skip', (error: CsvError & { raw?: string; lines?: number }) => {
    const raw = error.raw ?? '';
    const line = startLine(error.lines ?? 0, raw);
    // csv-parse cannot find the next record after an oversized one: stop loudly rather than guess.
    if (error.code === 'CSV_MAX_RECORD_SIZE') parser.destroy(new CsvUnreadableError(file, line, `${error.message} (an unclosed quote?)`));
    else skipped.push({ kind: 'syntax', line, raw: trimRecord(raw), message: error.message });
  });
  const iterator = records(parser, skipped, failure);
  const first = await iterator.next();
  if (first.done) throw failure.error ?? new CsvUnreadableError(file, 1, 'the file is empty: no header row');
  if (first.value.kind !== 'record') throw new CsvUnreadableError(file, 1, `the header row cannot be parsed: ${first.value.message}`);
  return {
    header: first.value.fields.map((f) => f.trim()),
    items: { [Symbol.asyncIterator]: () => iterator },
    bytesRead: () => input.bytesRead,
    totalBytes: size,
    gzip,
    close: () => {
      input.destroy();
      parser.destroy();
    },
  };
}

async function* records(parser: AsyncIterable<{ record: string[]; raw: string; info: Info }>, skipped: CsvItem[], failure: { error?: Error }): AsyncGenerator<CsvItem> {
  for await (const { record, raw, info } of parser) {
    const line = startLine(info.lines, raw);
    // Skip events fire as the parser meets them, ahead of records still buffered: merge by line.
    while (skipped.length > 0 && skipped[0]!.line < line) yield skipped.shift()!;
    yield { kind: 'record', fields: record, line, raw: trimRecord(raw) };
  }
  yield* skipped.splice(0);
  if (failure.error) throw failure.error;
}

/** csv-parse reports the line a record ends on; a quoted newline inside it moves the start back. */
function startLine(endLine: number, raw: string): number {
  return endLine - countNewlines(trimRecord(raw));
}

function trimRecord(raw: string): string {
  return raw.replace(/^(\r?\n)+/, '').replace(/\r?\n$/, '');
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
