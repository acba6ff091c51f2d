// Streams a CSV file (plain or gzip) as records with the line each starts on, pulling from disk only
// as fast as the caller consumes: memory stays flat whatever the file size. A record csv-parse cannot
// parse (an unclosed quote at the end) comes out as a syntax item; an oversized one (an unclosed quote
// earlier on) stops the read with CsvUnreadableError naming the line.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import { ConfigError } from '../core/env';

/** `endByte`: the byte after the record in the file's text (uncompressed for gzip): where a position points. */
export type CsvItem =
  | { kind: 'record'; fields: string[]; line: number; raw: string; endByte: number }
  | { kind: 'syntax'; line: number; raw: string; message: string; endByte: number };

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
    raw: true, info: true, bom: true, relax_column_count: true, relax_quotes: true,
    skip_empty_lines: true, skip_records_with_error: true, max_record_size: maxRecordBytes,
  });
  const stages: (Readable | NodeJS.WritableStream)[] = gzip ? [input, createGunzip(), parser] : [input, new PassThrough(), parser];
  const failure: { error?: Error } = {};
  pipeline(stages as [Readable, NodeJS.ReadWriteStream, NodeJS.WritableStream], (error) => {
    if (error && error.name !== 'AbortError' && !failure.error) failure.error = error;
  });
  const skipped: Skipped[] = [];
  parser.on('skip', (error: CsvError & { raw?: string }) => {
    // csv-parse cannot find the next record after an oversized one: stop loudly rather than guess.
    if (error.code === 'CSV_MAX_RECORD_SIZE') parser.destroy(new OversizedRecord(`${error.message} (an unclosed quote?)`));
    // Where it was in the file: records parsed before it may still wait in the parser's buffer.
    else skipped.push({ after: parser.info.records, raw: error.raw ?? '', message: error.message });
  });
  const iterator = records(file, parser, skipped, failure, () => (parser as unknown as { info: { bytes: number } }).info.bytes);
  const first = await iterator.next();
  // Nothing to send is a wrong file, not a read that broke off: a configuration error (exit 2).
  if (first.done) throw failure.error ?? new ConfigError([`PRODUCER_FILE ${file} ${size === 0 ? 'is empty (0 bytes): no header row,' : 'has no header row (only blank lines):'} nothing to send`]);
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

class OversizedRecord extends Error {}

type ParsedRecord = { record: string[]; raw: string; info: { bytes: number } };
/** A record csv-parse skipped, after how many parsed records. */
type Skipped = { after: number; raw: string; message: string };

async function* records(file: string, parser: AsyncIterable<ParsedRecord>, skipped: Skipped[], failure: { error?: Error }, parsedBytes: () => number): AsyncGenerator<CsvItem> {
  const lines = new LineCounter();
  let taken = 0;
  try {
    for await (const { record, raw, info } of parser) {
      // With relax_quotes the only skip left is an unclosed quote at the end of the input. It is
      // handed out in its place in the file, never before records still buffered, so line numbers
      // do not depend on how fast the caller reads (pacing).
      while (skipped.length > 0 && skipped[0]!.after <= taken) yield syntaxItem(lines, skipped.shift()!, info.bytes - Buffer.byteLength(raw));
      taken++;
      yield { kind: 'record', fields: record, line: lines.advance(raw), raw: trimRecord(raw), endByte: info.bytes };
    }
  } catch (error) {
    // Records still buffered in the parser are dropped with it, so the count of lines handed out is
    // exactly where reading stopped.
    if (error instanceof OversizedRecord) throw new CsvUnreadableError(file, lines.next, error.message);
    throw error;
  }
  for (const item of skipped.splice(0)) yield syntaxItem(lines, item, parsedBytes());
  if (failure.error) throw failure.error;
}

function syntaxItem(lines: LineCounter, { raw, message }: Skipped, endByte: number): CsvItem {
  return { kind: 'syntax', line: lines.advance(raw), raw: trimRecord(raw), message, endByte };
}

/**
 * Counts lines from the raw text of each record, since csv-parse's own `info.lines` miscounts blank
 * lines in CRLF files. In CRLF files csv-parse also drops the \n of some delimiters from `raw`, so
 * there a lone \r counts as a line break too.
 */
class LineCounter {
  next = 1;
  private breaks = /\n/g;

  /** The line this record starts on (after any blank lines it carries); moves past it. */
  advance(raw: string): number {
    if (this.next === 1 && /\r\n?$/.test(raw)) this.breaks = /\r\n|\r|\n/g;
    const start = this.next + count(/^(\r\n|\r|\n)*/.exec(raw)![0], this.breaks);
    this.next += count(raw, this.breaks);
    return start;
  }
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

function trimRecord(raw: string): string {
  return raw.replace(/^(\r\n|\r|\n)+/, '').replace(/(\r\n|\r|\n)$/, '');
}
