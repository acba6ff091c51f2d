// Streams a CSV file (plain or gzip) as records with the line each starts on, pulling from disk only
// as fast as the caller consumes: memory stays flat whatever the file size. A record csv-parse cannot
// parse (an unclosed quote at the end) comes out as a syntax item; an oversized one (an unclosed quote
// earlier on) stops the read with CsvUnreadableError naming the line.
//
// Reading is in two gears. Plain CSV (\n line ends, fields quoted, if at all, the standard way) is
// split here directly, several times faster than csv-parse. The first record that is anything else
// (a carriage return, a quote inside a field, an unclosed quote, a huge record) hands the rest of the
// file, from that record on, to csv-parse with the options it always had, so every odd row gets
// exactly csv-parse's result and error; a file whose header is not plain goes to csv-parse whole.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import { ConfigError } from '../core/env';

/** `endByte`: the byte after the record in the file's text (uncompressed for gzip): where a position points. */
export type CsvItem =
  | { kind: 'record'; fields: string[]; line: number; raw: string; endByte: number }
  | { kind: 'syntax'; line: number; raw: string; message: string; endByte: number };

/**
 * A record of the fast gear without quoted fields: its text stays bytes (`text[start, end)`) until
 * something asks for `raw` or `fields`, so a reader of bytes (rees46-row-encoder.ts) makes no strings.
 */
export class PlainRecord {
  readonly kind = 'record';
  private rawText: string | undefined;
  private split: string[] | undefined;

  constructor(readonly text: Buffer, readonly start: number, readonly end: number, readonly line: number, readonly endByte: number) {}

  get raw(): string {
    return (this.rawText ??= this.text.toString('utf8', this.start, this.end));
  }

  get fields(): string[] {
    return (this.split ??= this.raw.split(','));
  }
}

export interface CsvSource {
  header: string[];
  /** The records after the header, a batch at a time (what the producer reads). */
  batches: AsyncIterable<readonly CsvItem[]>;
  /** The same records one at a time; it shares its place in the file with `batches`. */
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

export interface OpenCsvOptions {
  /** false: csv-parse reads the whole file (the reference the fast gear is tested against). */
  plainReader?: boolean;
  /** Read size (tests use small ones so that records straddle chunks). */
  chunkBytes?: number;
}

export async function openCsv(file: string, options: OpenCsvOptions = {}): Promise<CsvSource> {
  const [gzip, { size }] = await Promise.all([isGzipFile(file), stat(file)]);
  const chunkBytes = options.chunkBytes ?? 256 * 1024;
  const input: ReadStream = createReadStream(file, { highWaterMark: chunkBytes });
  const text = gzip ? createGunzip({ chunkSize: Math.max(64, chunkBytes) }) : new PassThrough({ highWaterMark: chunkBytes });
  pipeline(input, text, () => undefined); // a failure surfaces where text is read
  const reader = new PlainCsvReader(file, text);
  const iterator = options.plainReader === false ? singles(reader.csvParseFrom(0, true)) : reader.batches();
  const first = await iterator.next();
  // Nothing to send is a wrong file, not a read that broke off: a configuration error (exit 2).
  if (first.done) throw new ConfigError([`PRODUCER_FILE ${file} ${size === 0 ? 'is empty (0 bytes): no header row,' : 'has no header row (only blank lines):'} nothing to send`]);
  const [head, ...rest] = first.value;
  if (head!.kind !== 'record') throw new CsvUnreadableError(file, 1, `the header row cannot be parsed: ${head!.message}`);
  const batches = (async function* (): AsyncGenerator<CsvItem[]> {
    if (rest.length > 0) yield rest;
    yield* iterator;
  })();
  return {
    header: head!.fields.map((f) => f.trim()),
    batches: { [Symbol.asyncIterator]: () => batches },
    items: { [Symbol.asyncIterator]: () => itemsOf(batches) },
    bytesRead: () => input.bytesRead,
    totalBytes: size,
    gzip,
    close: () => {
      input.destroy();
      text.destroy();
      reader.close();
    },
  };
}

async function* itemsOf(batches: AsyncIterable<readonly CsvItem[]>): AsyncGenerator<CsvItem> {
  for await (const batch of batches) yield* batch;
}

const newline = 0x0a;
const carriageReturn = 0x0d;
const quote = 0x22;
const comma = 0x2c;
/** Beyond this a pending record goes to csv-parse, well before its own limit (which counts characters, not bytes). */
const plainRecordLimit = maxRecordBytes / 2;

/** Why a record cannot be read here: csv-parse reads it (and the rest of the file). */
const notPlain = Symbol('not plain');
/** The record goes on past the text buffered so far. */
const needMore = Symbol('need more');

/**
 * The fast gear (see the top of the file). Works on bytes: every byte it looks for is ASCII, so
 * UTF-8 text is only decoded as whole fields.
 */
class PlainCsvReader {
  private buffer: Buffer = Buffer.alloc(0);
  /** File offset (uncompressed) of buffer[0]. */
  private base = 0;
  private line = 1;
  private done = false;
  private readonly chunks: AsyncIterator<Buffer>;
  private fallback: Readable | undefined;
  private quotes = new ByteSearch(quote);
  private returns = new ByteSearch(carriageReturn);

  constructor(private readonly file: string, text: Readable) {
    this.chunks = text[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  close(): void {
    this.fallback?.destroy();
  }

  /**
   * The records, in batches: all those in the text read so far, handed over together before the
   * next read, instead of one async-generator step (about 0.3 µs here) per record: the producer's
   * row path ran 1–11% faster (docs/benchmarks.md, 2026-12-07). From the hand-over to csv-parse
   * on, a batch holds one record.
   */
  async *batches(): AsyncGenerator<CsvItem[]> {
    let pos = await this.startAfterBom();
    let header = true;
    let out: CsvItem[] = [];
    for (;;) {
      // Blank lines before the header could decide csv-parse's record delimiter: let it read them.
      if (header && this.buffer[pos] === newline) {
        yield* singles(this.csvParseFrom(pos, true));
        return;
      }
      // Blank lines are skipped, as csv-parse's skip_empty_lines does; they still count as lines.
      // csv-parse counts them in the record after them, so it would start before them.
      let at = pos;
      let line = this.line;
      while (at < this.buffer.length && this.buffer[at] === newline) {
        at++;
        line++;
      }
      if (at - pos > plainRecordLimit) {
        if (out.length > 0) yield out;
        yield* singles(this.csvParseFrom(pos, header));
        return;
      }
      if (at >= this.buffer.length) {
        if (out.length > 0) yield out;
        if (this.done) return;
        out = [];
        pos = await this.fill(pos);
        continue;
      }
      const record = this.record(at, header);
      if (record === needMore && !this.done && this.buffer.length - pos <= plainRecordLimit) {
        if (out.length > 0) yield out;
        out = [];
        pos = await this.fill(pos);
        continue;
      }
      if (record === notPlain || record === needMore) {
        if (out.length > 0) yield out;
        yield* singles(this.csvParseFrom(pos, header));
        return;
      }
      this.line = line;
      pos = at;
      header = false;
      const { fields, end, next } = record;
      const startLine = this.line;
      // Only quoted fields hold newlines.
      if (fields) for (let i = this.buffer.indexOf(newline, pos); i >= 0 && i < end; i = this.buffer.indexOf(newline, i + 1)) this.line++;
      if (next > end) this.line++;
      out.push(fields ? { kind: 'record', fields, line: startLine, raw: this.buffer.toString('utf8', pos, end), endByte: this.base + next } : new PlainRecord(this.buffer, pos, end, startLine, this.base + next));
      pos = next;
    }
  }

  /** Skips a UTF-8 byte order mark (bom: true); its bytes still count in offsets. */
  private async startAfterBom(): Promise<number> {
    while (this.buffer.length < 3 && !this.done) await this.fill(0);
    return this.buffer[0] === 0xef && this.buffer[1] === 0xbb && this.buffer[2] === 0xbf ? 3 : 0;
  }

  /** Where the next `byte` is at or after `pos` (-1: none in the buffer). */
  private next(byte: number, pos: number): number {
    return (byte === quote ? this.quotes : this.returns).next(this.buffer, pos);
  }

  /** Drops what is before `pos`, appends the next chunk; returns where `pos` is now. */
  private async fill(pos: number): Promise<number> {
    const next = await this.chunks.next();
    const rest = this.buffer.subarray(pos);
    this.base += pos;
    this.quotes = new ByteSearch(quote);
    this.returns = new ByteSearch(carriageReturn);
    if (next.done) {
      this.done = true;
      this.buffer = rest;
    } else {
      this.buffer = rest.length > 0 ? Buffer.concat([rest, next.value]) : next.value;
    }
    return 0;
  }

  /**
   * The record at `pos`: its fields (undefined when none is quoted: split the raw text on commas),
   * where its text ends and where the next record starts (after the newline).
   */
  private record(pos: number, header: boolean): { fields: string[] | undefined; end: number; next: number } | typeof notPlain | typeof needMore {
    const buffer = this.buffer;
    const lineEnd = buffer.indexOf(newline, pos);
    const end = lineEnd < 0 ? buffer.length : lineEnd;
    if (lineEnd < 0 && !this.done) return needMore;
    const cr = this.next(carriageReturn, pos);
    const firstQuote = this.next(quote, pos);
    // The header decides csv-parse's record delimiter (it detects it): a header that is not plain sends the whole file there.
    if ((cr >= 0 && cr < end) || (header && firstQuote >= 0 && firstQuote < end)) return notPlain;
    if (firstQuote < 0 || firstQuote >= end) return { fields: undefined, end, next: lineEnd < 0 ? end : end + 1 };
    return this.quotedRecord(pos);
  }

  /** A record with quoted fields, which may span lines; anything but standard quoting is not plain. */
  private quotedRecord(pos: number): { fields: string[]; end: number; next: number } | typeof notPlain | typeof needMore {
    const buffer = this.buffer;
    const fields: string[] = [];
    let i = pos;
    for (;;) {
      let value = '';
      let after: number;
      if (buffer[i] === quote) {
        let from = i + 1;
        for (;;) {
          const q = buffer.indexOf(quote, from);
          if (q < 0) return this.done ? notPlain : needMore;
          if (q + 1 >= buffer.length && !this.done) return needMore;
          if (buffer[q + 1] === quote) {
            value += buffer.toString('utf8', from, q + 1);
            from = q + 2;
            continue;
          }
          value += buffer.toString('utf8', from, q);
          after = q + 1;
          break;
        }
      } else {
        let j = i;
        while (j < buffer.length && buffer[j] !== comma && buffer[j] !== newline) {
          if (buffer[j] === quote || buffer[j] === carriageReturn) return notPlain;
          j++;
        }
        if (j >= buffer.length && !this.done) return needMore;
        value = buffer.toString('utf8', i, j);
        after = j;
      }
      fields.push(value);
      if (after >= buffer.length) return { fields, end: after, next: after };
      if (buffer[after] === newline) return { fields, end: after, next: after + 1 };
      if (buffer[after] !== comma) return notPlain;
      i = after + 1;
    }
  }

  /** The slow gear: csv-parse from the record at `pos` to the end of the file. */
  async *csvParseFrom(pos: number, fromStart: boolean): AsyncGenerator<CsvItem> {
    const rest = this.buffer.subarray(pos);
    const chunks = this.chunks;
    const done = this.done;
    const feed = Readable.from((async function* () {
      if (rest.length > 0) yield rest;
      if (done) return;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    })());
    this.fallback = feed;
    yield* csvParseRecords(this.file, feed, { line: this.line, byte: this.base + pos, fromStart });
  }
}

/** csv-parse's items as batches of one. */
async function* singles(items: AsyncIterable<CsvItem>): AsyncGenerator<CsvItem[]> {
  for await (const item of items) yield [item];
}

/**
 * Finds a byte in one buffer, remembering the last answer: searching afresh from every record would
 * rescan the rest of the buffer each time when the byte is rare or absent.
 */
class ByteSearch {
  private from = Infinity;
  private at = -1;

  constructor(private readonly byte: number) {}

  next(buffer: Buffer, pos: number): number {
    // The first one at or after `from` is also the first at or after `pos`, if it is not before it.
    if (this.from <= pos && (this.at === -1 || this.at >= pos)) return this.at;
    this.from = pos;
    this.at = buffer.indexOf(this.byte, pos);
    return this.at;
  }
}

/**
 * csv-parse's records from `feed`, which starts at a record boundary: at `line` and file offset `byte`.
 * From the file's start csv-parse detects the record delimiter itself; later on it is the header's (\n).
 */
async function* csvParseRecords(file: string, feed: Readable, start: { line: number; byte: number; fromStart: boolean }): AsyncGenerator<CsvItem> {
  const parser = parse({
    raw: true, info: true, bom: true, relax_column_count: true, relax_quotes: true,
    skip_empty_lines: true, skip_records_with_error: true, max_record_size: maxRecordBytes,
    ...(start.fromStart ? {} : { record_delimiter: '\n' }),
  });
  const failure: { error?: Error } = {};
  pipeline(feed, parser, (error) => {
    if (error && error.name !== 'AbortError' && !failure.error) failure.error = error;
  });
  const skipped: Skipped[] = [];
  // csv-parse's messages name its own line count: from the line it started at, as if it had read the whole file.
  const inFile = (message: string): string => (start.fromStart ? message : message.replace(/ at line (\d+)/g, (_, n: string) => ` at line ${Number(n) + start.line - 1}`));
  parser.on('skip', (error: CsvError & { raw?: string }) => {
    // csv-parse cannot find the next record after an oversized one: stop loudly rather than guess.
    if (error.code === 'CSV_MAX_RECORD_SIZE') parser.destroy(new OversizedRecord(`${inFile(error.message)} (an unclosed quote?)`));
    // Where it was in the file: records parsed before it may still wait in the parser's buffer.
    else skipped.push({ after: parser.info.records, raw: error.raw ?? '', message: inFile(error.message) });
  });
  const parsedBytes = (): number => start.byte + (parser as unknown as { info: { bytes: number } }).info.bytes;
  try {
    yield* records(file, parser, skipped, failure, parsedBytes, new LineCounter(start.line, start.fromStart), start.byte);
  } finally {
    parser.destroy();
  }
}

class OversizedRecord extends Error {}

type ParsedRecord = { record: string[]; raw: string; info: { bytes: number } };
/** A record csv-parse skipped, after how many parsed records. */
type Skipped = { after: number; raw: string; message: string };

async function* records(
  file: string, parser: AsyncIterable<ParsedRecord>, skipped: Skipped[], failure: { error?: Error }, parsedBytes: () => number, lines: LineCounter, byteBase: number,
): AsyncGenerator<CsvItem> {
  let taken = 0;
  try {
    for await (const { record, raw, info } of parser) {
      // With relax_quotes the only skip left is an unclosed quote at the end of the input. It is
      // handed out in its place in the file, never before records still buffered, so line numbers
      // do not depend on how fast the caller reads (pacing).
      while (skipped.length > 0 && skipped[0]!.after <= taken) yield syntaxItem(lines, skipped.shift()!, byteBase + info.bytes - Buffer.byteLength(raw));
      taken++;
      yield { kind: 'record', fields: record, line: lines.advance(raw), raw: trimRecord(raw), endByte: byteBase + info.bytes };
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
  private breaks = /\n/g;

  /** `detect`: from the file's start, where a CRLF header makes it a CRLF file. */
  constructor(public next = 1, private detect = true) {}

  /** The line this record starts on (after any blank lines it carries); moves past it. */
  advance(raw: string): number {
    if (this.detect && /\r\n?$/.test(raw)) this.breaks = /\r\n|\r|\n/g;
    this.detect = false;
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
