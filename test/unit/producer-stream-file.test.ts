// The producer pipeline against an in-memory Kafka stand-in: every row accounted for
// (read = sent + rejected), exact line numbers, batching limits, a stop signal that loses nothing,
// a refused batch that ends the run with the documented exit code, and pacing schedules.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it, mock } from 'node:test';
import { Partitioners, type Message, type Producer, type ProducerBatch, type RecordMetadata } from 'kafkajs';
import pino from 'pino';
import { readProducerConfig, type ProducerSettings } from '../../services/producer/config';
import { CsvUnreadableError, isGzipFile, maxRecordBytes, openCsv } from '../../services/producer/csv-source';
import { deadLetterMessage, maxErrorChars, maxRawChars, type DeadLetterValue } from '../../services/producer/dead-letter';
import { writeGeneratedCsv } from '../../services/producer/generator';
import { Pacer, type Clock } from '../../services/producer/pacer';
import { formatBar, formatDuration, startProgress } from '../../services/producer/progress';
import { exitCodes } from '../../services/producer/exit-codes';
import { Rees46RowEncoder } from '../../services/producer/rees46-row-encoder';
import { formatReport, streamFile } from '../../services/producer/stream-file';
import { expandStandIns } from '../support/kafka-records';

const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-stream-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const logger = pino({ level: 'silent' });

const partitionCount = async (): Promise<number> => 3;

/**
 * Records every batch and acknowledges each partition in it; can refuse a batch, or (as kafkajs
 * does when a leader dies mid-request) resolve while silently leaving one partition out.
 */
class FakeProducer {
  batches: ProducerBatch[] = [];
  failOnBatch: number | undefined;
  /** What the refused batch fails with. */
  failure: Error = new Error('TOPIC_AUTHORIZATION_FAILED');
  skipPartitionOnce: number | undefined;
  onSend: (() => void) | undefined;
  /** Refuses a batch holding a record larger than this (the broker's max.message.bytes with compression none). */
  maxMessageBytes: number | undefined;
  async sendBatch(sent: ProducerBatch): Promise<RecordMetadata[]> {
    this.onSend?.();
    const batch = { ...sent, topicMessages: (sent.topicMessages ?? []).map((t) => ({ ...t, messages: expandStandIns(t.messages) })) };
    const tooLarge = batch.topicMessages.flatMap((t) => t.messages).find((m) => messageBytes(m) > (this.maxMessageBytes ?? Infinity));
    if (tooLarge) throw new Error(`MESSAGE_TOO_LARGE: a record of ${messageBytes(tooLarge)} bytes`);
    if (this.failOnBatch === this.batches.length) {
      this.failOnBatch = undefined;
      throw this.failure;
    }
    const skip = this.skipPartitionOnce;
    this.skipPartitionOnce = undefined;
    const kept = (batch.topicMessages ?? []).map((t) => ({ ...t, messages: t.messages.filter((m) => m.partition !== skip) }));
    this.batches.push({ ...batch, topicMessages: kept });
    return kept.flatMap((t) => [...new Set(t.messages.map((m) => m.partition!))].map((partition) => ({ topicName: t.topic, partition, errorCode: 0 })));
  }
  messages(topic: string) {
    return this.batches.flatMap((b) => (b.topicMessages ?? []).filter((t) => t.topic === topic).flatMap((t) => t.messages));
  }
  asProducer(): Producer {
    return this as unknown as Producer;
  }
}

/** A record's size as the broker counts it: key, value and headers in UTF-8 bytes. */
function messageBytes(m: Message): number {
  const bytes = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : Buffer.isBuffer(v) ? v.length : 0);
  return bytes(m.key) + bytes(m.value) + Object.entries(m.headers ?? {}).reduce((sum, [name, value]) => sum + name.length + bytes(value), 0);
}

function settings(file: string, extra: Record<string, string> = {}): ProducerSettings {
  return readProducerConfig({ KAFKA_BROKERS: 'x:1', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PRODUCER_FILE: file, ...extra });
}

const header = 'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session';
const good = (i: number) => `2019-10-01 00:00:${String(i % 60).padStart(2, '0')} UTC,view,${1000 + i},2053,electronics.smartphone,"apple, inc",${i}.50,51${i},s${i % 7}`;

describe('CSV source', () => {
  it('reports the line a record starts on, across quoted newlines, blank lines and CRLF', async () => {
    const file = path.join(dir, 'lines.csv');
    writeFileSync(file, `${header}\r\n${good(1)}\r\n\r\n2019-10-01 00:00:02 UTC,view,7,1,"multi\r\nline",b,1.00,u,s\r\n${good(3)}`);
    const source = await openCsv(file);
    const items = [];
    for await (const item of source.items) items.push(item);
    assert.deepEqual(items.map((i) => i.line), [2, 4, 6]);
    const multi = items[1]!;
    assert.equal(multi.kind === 'record' ? multi.fields[4] : undefined, 'multi\r\nline');
    assert.equal(items[0]!.raw, good(1));
  });

  it('detects gzip by magic bytes whatever the name, and by extension', async () => {
    const file = path.join(dir, 'packed.data');
    writeFileSync(file, gzipSync(`${header}\n${good(1)}\n`));
    assert.equal(await isGzipFile(file), true);
    assert.equal(await isGzipFile(path.join(dir, 'lines.csv')), false);
    const source = await openCsv(file);
    assert.equal(source.gzip, true);
    const items = [];
    for await (const item of source.items) items.push(item);
    assert.equal(items.length, 1);
  });

  it('hands out a syntax item in file order even when the parser got ahead of the reader (issue 15)', async () => {
    const file = path.join(dir, 'tail-quote.csv');
    writeFileSync(file, `${header}\n${[1, 2, 3, 4, 5].map(good).join('\n')}\n2019-10-01 00:00:09 UTC,"unclosed,1`);
    const source = await openCsv(file);
    // A slow reader (a paced producer): the parser reaches the end of the file while records wait in its buffer.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const items = [];
    for await (const item of source.items) items.push([item.kind, item.line]);
    assert.deepEqual(items, [['record', 2], ['record', 3], ['record', 4], ['record', 5], ['record', 6], ['syntax', 7]]);
  });

  it('stops with the line number when a record outgrows the limit (an unclosed quote)', async () => {
    const file = path.join(dir, 'unclosed.csv');
    const plain = (i: number) => good(i).replace('"apple, inc"', 'apple');
    writeFileSync(file, `${header}\n${plain(1)}\n${plain(2).replace(',view,', ',"view,')}\n${'x'.repeat(maxRecordBytes)}\n${plain(3)}\n`);
    const source = await openCsv(file);
    const lines: number[] = [];
    await assert.rejects(async () => {
      for await (const item of source.items) lines.push(item.line);
    }, (e: unknown) => e instanceof CsvUnreadableError && e.line === 3 && /from line 3 on/.test(e.message));
    assert.deepEqual(lines, [2]);
  });
});

describe('streamFile', () => {
  it('sends good rows keyed by session, dead-letters bad ones with file, line, raw text and reason', async () => {
    const file = path.join(dir, 'mixed.csv');
    const rows = [good(1), good(2).replace('.50,', 'x,'), good(3).split(',').slice(0, 5).join(','), good(4), '2019-10-01 00:00:05 UTC,"unclosed,1'];
    writeFileSync(file, `${header}\n${rows.join('\n')}\n`);
    const fake = new FakeProducer();
    const report = await streamFile({ settings: settings(file), producer: fake.asProducer(), partitionCount, logger });
    assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [5, 2, 3, 0, exitCodes.ok]);
    assert.deepEqual(report.rejectedByReason, { bad_number: 1, column_count: 1, csv_syntax: 1 });
    const events = fake.messages('ecommerce_topic');
    assert.deepEqual(events.map((m) => m.key), ['s1', 's4']);
    assert.deepEqual(events.map((m) => (JSON.parse(String(m.value)) as { eventId: string }).eventId), ['mixed.csv:2', 'mixed.csv:5']);
    const dead = fake.messages('ecommerce_dead_letter').map((m) => ({ value: JSON.parse(String(m.value)) as DeadLetterValue, headers: m.headers }));
    assert.deepEqual(dead.map((d) => [d.value.line, d.value.reason]), [[3, 'bad_number'], [4, 'column_count'], [6, 'csv_syntax']]);
    assert.equal(dead[0]!.value.raw, rows[1]);
    assert.equal(dead[0]!.value.file, 'mixed.csv');
    assert.match(dead[0]!.value.error, /price "2x" is not a number/);
    assert.deepEqual(dead[1]!.headers, { origin: 'producer', reason: 'column_count', error: dead[1]!.value.error, file: 'mixed.csv', line: '4' });
    assert.match(formatReport(report), /read 5 = sent 2 \+ rejected 3 \(/);
  });

  it('cuts the raw text of a huge rejected row, saying how long it was', async () => {
    const file = path.join(dir, 'huge.csv');
    const huge = `${good(1)},${'y'.repeat(300_000)}`;
    writeFileSync(file, `${header}\n${huge}\n${good(2)}\n`);
    const fake = new FakeProducer();
    const report = await streamFile({ settings: settings(file), producer: fake.asProducer(), partitionCount, logger });
    assert.deepEqual([report.sent, report.rejected], [1, 1]);
    const value = JSON.parse(String(fake.messages('ecommerce_dead_letter')[0]!.value)) as DeadLetterValue;
    assert.deepEqual([value.reason, value.raw, value.rawLength], ['column_count', huge.slice(0, maxRawChars), huge.length]);
  });

  it('bounds every dead letter whatever the bad field (value, error text, headers): one huge row never stops the file (issue 15)', async () => {
    const file = path.join(dir, 'huge-fields.csv');
    const digits = good(2).replace('2.50,', `${'1'.repeat(600_000)},`); // a valid number pattern that overflows
    const noise = good(3).replace('3.50,', `${'\u0001€x'.repeat(100_000)},`); // 300,000 characters that grow as UTF-8 and JSON
    writeFileSync(file, `${header}\n${good(1)}\n${digits}\n${noise}\n${good(4)}\n`);
    for (const compression of ['none', 'gzip']) {
      const fake = new FakeProducer();
      fake.maxMessageBytes = 1_048_588; // Kafka's default message.max.bytes
      const report = await streamFile({ settings: settings(file, { PRODUCER_COMPRESSION: compression }), producer: fake.asProducer(), partitionCount, logger });
      assert.deepEqual([report.read, report.sent, report.rejected, report.failed, report.exitCode], [4, 2, 2, 0, exitCodes.ok], `${compression}: ${formatReport(report)}`);
      assert.deepEqual(report.rejectedByReason, { bad_number: 2 });
      const dead = fake.messages('ecommerce_dead_letter');
      for (const m of dead) assert.ok(messageBytes(m) < 700_000, `a dead letter of ${messageBytes(m)} bytes`);
      const values = dead.map((m) => JSON.parse(String(m.value)) as DeadLetterValue);
      assert.deepEqual(values.map((v) => [v.line, v.rawLength, v.raw.length]), [[3, digits.length, maxRawChars], [4, noise.length, maxRawChars]]);
      assert.match(values[0]!.error, /^price "1{80}"… \(600000 characters\) is out of range$/);
      assert.ok(values.every((v, i) => v.error.length <= 1000 && dead[i]!.headers!.error === v.error));
      assert.equal(report.deliveredThroughLine, 5);
    }
  });

  it('a dead letter is bounded even when given an unbounded raw text and error', () => {
    const m = deadLetterMessage({ origin: 'producer', file: 'f.csv', line: 7, raw: '\u0001'.repeat(900_000), reason: 'csv_syntax', error: `e${'x'.repeat(600_000)}`, preset: 'rees46' });
    const value = JSON.parse(String(m.value)) as DeadLetterValue;
    assert.deepEqual([value.raw.length, value.rawLength, value.error.length, m.headers!.error], [maxRawChars, 900_000, maxErrorChars, value.error]);
    assert.ok(messageBytes(m) < 700_000);
  });

  it('reports rejections by reason as delivered: they add up to `rejected` even when Kafka refused a batch (issue 15)', async () => {
    const file = path.join(dir, 'refused-reasons.csv');
    await writeGeneratedCsv(file, { rows: 2000, seed: 9, malformedRate: 0.05 });
    const fake = new FakeProducer();
    fake.failOnBatch = 1;
    const report = await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '500' }), producer: fake.asProducer(), partitionCount, logger });
    assert.equal(report.exitCode, exitCodes.kafka);
    const byReason = Object.values(report.rejectedByReason).reduce((a, b) => a + b, 0);
    assert.equal(byReason, report.rejected);
    assert.equal(report.rejected, fake.messages('ecommerce_dead_letter').length);
    assert.equal(report.read, report.sent + report.rejected + report.failed);
  });

  it('counts batch bytes as UTF-8, so multi-byte rows never make a batch larger than its limit (issue 15)', async () => {
    const file = path.join(dir, 'multibyte.csv');
    const rows = Array.from({ length: 200 }, (_, i) => good(i).replace('"apple, inc"', '€'.repeat(300)));
    writeFileSync(file, `${header}\n${rows.join('\n')}\n`);
    const fake = new FakeProducer();
    const report = await streamFile({ settings: settings(file, { PRODUCER_BATCH_BYTES: '20000' }), producer: fake.asProducer(), partitionCount, logger });
    assert.equal(report.sent, 200);
    const sizes = fake.batches.map((b) => b.topicMessages!.flatMap((t) => t.messages).reduce((sum, m) => sum + messageBytes(m), 0));
    assert.ok(sizes.every((bytes) => bytes <= 20_000), `batch sizes ${sizes.join(',')}`);
  });

  it('sends again what kafkajs silently left out of a batch, and nothing else', async () => {
    const file = path.join(dir, 'skipped.csv');
    await writeGeneratedCsv(file, { rows: 1000, seed: 8 });
    const fake = new FakeProducer();
    fake.onSend = () => {
      if (fake.batches.length === 1) fake.skipPartitionOnce = 2;
    };
    const warnings: { unacknowledged?: string }[] = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { unacknowledged?: string }) });
    const report = await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '300' }), producer: fake.asProducer(), partitionCount, logger: capture });
    assert.deepEqual([report.sent, report.failed], [1000, 0]);
    assert.deepEqual(warnings.map((w) => w.unacknowledged), ['ecommerce_topic partition(s) 2']);
    const resend = fake.batches[2]!.topicMessages![0]!.messages;
    assert.ok(resend.length > 0 && resend.every((m) => m.partition === 2), 'the resend carries only the skipped partition');
    const ids = fake.messages('ecommerce_topic').map((m) => (JSON.parse(String(m.value)) as { eventId: string }).eventId);
    assert.equal(new Set(ids).size, 1000);
    assert.equal(ids.length, 1000);
  });

  it('batches by message count and by bytes', async () => {
    const file = path.join(dir, 'gen.csv');
    await writeGeneratedCsv(file, { rows: 1000, seed: 1 });
    const byCount = new FakeProducer();
    await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '300' }), producer: byCount.asProducer(), partitionCount, logger });
    assert.deepEqual(byCount.batches.map((b) => b.topicMessages![0]!.messages.length), [300, 300, 300, 100]);
    // Partitions are chosen before sending (murmur2 of the key), so acknowledgements can be checked.
    assert.deepEqual(new Set(byCount.messages('ecommerce_topic').map((m) => m.partition)), new Set([0, 1, 2]));
    const byBytes = new FakeProducer();
    await streamFile({ settings: settings(file, { PRODUCER_BATCH_BYTES: '20000' }), producer: byBytes.asProducer(), partitionCount, logger });
    const sizes = byBytes.batches.map((b) => b.topicMessages![0]!.messages.reduce((sum, m) => sum + String(m.key).length + String(m.value).length, 0));
    assert.ok(sizes.every((bytes) => bytes <= 20_000), `batch sizes ${sizes.join(',')}`);
    assert.ok(sizes.length >= Math.ceil(sizes.reduce((a, b) => a + b, 0) / 20_000) && sizes.length > 10);
    assert.equal(byBytes.messages('ecommerce_topic').length, 1000);
  });

  it("encodes each event into the partition kafkajs' partitioner gives its key, in file order; without keys, round robin", async () => {
    const file = path.join(dir, 'partitions.csv');
    await writeGeneratedCsv(file, { rows: 2000, seed: 4 });
    const kafkajs = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 3 }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
    const keyed = new FakeProducer();
    await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '700' }), producer: keyed.asProducer(), partitionCount, logger });
    const events = keyed.messages('ecommerce_topic');
    assert.equal(events.length, 2000);
    for (const m of events) assert.equal(m.partition, kafkajs({ topic: 'ecommerce_topic', partitionMetadata, message: { key: m.key!, value: null } }), String(m.key));
    const line = (m: Message): number => Number((JSON.parse(String(m.value)) as { eventId: string }).eventId.split(':')[1]);
    for (const partition of [0, 1, 2]) {
      const lines = events.filter((m) => m.partition === partition).map(line);
      assert.deepEqual(lines, [...lines].sort((a, b) => a - b), `partition ${partition} in file order`);
    }
    const keyless = new FakeProducer();
    await streamFile({ settings: settings(file, { PRODUCER_KEY: 'none' }), producer: keyless.asProducer(), partitionCount, logger });
    const counts = [0, 1, 2].map((p) => keyless.messages('ecommerce_topic').filter((m) => m.partition === p && m.key === null).length);
    assert.ok(counts.every((c) => Math.abs(c - 2000 / 3) <= 1), `round robin: ${counts.join(', ')}`);
  });

  it('on a stop signal delivers every row it read and reports where it stopped', async () => {
    const file = path.join(dir, 'stop.csv');
    await writeGeneratedCsv(file, { rows: 5000, seed: 2, malformedRate: 0.05 });
    const fake = new FakeProducer();
    const controller = new AbortController();
    fake.onSend = () => {
      if (fake.batches.length === 2) controller.abort();
    };
    const report = await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '500' }), producer: fake.asProducer(), partitionCount, logger, signal: controller.signal });
    assert.equal(report.stoppedBy, 'signal');
    assert.equal(report.exitCode, exitCodes.ok);
    assert.ok(report.read < 5000 && report.read >= 1500, `read ${report.read}`);
    assert.equal(report.read, report.sent + report.rejected);
    assert.equal(fake.messages('ecommerce_topic').length + fake.messages('ecommerce_dead_letter').length, report.read);
    assert.equal(report.deliveredThroughLine, report.read + 1);
  });

  it('a rerun resuming after the reported line completes the file with no row twice', async () => {
    const file = path.join(dir, 'resume.csv');
    await writeGeneratedCsv(file, { rows: 3000, seed: 6, malformedRate: 0.05 });
    const first = new FakeProducer();
    const controller = new AbortController();
    first.onSend = () => controller.abort();
    const stopped = await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '400' }), producer: first.asProducer(), partitionCount, logger, signal: controller.signal });
    assert.equal(stopped.stoppedBy, 'signal');
    const second = new FakeProducer();
    const resumed = await streamFile({
      settings: settings(file, { PRODUCER_RESUME_AFTER_LINE: String(stopped.deliveredThroughLine) }), producer: second.asProducer(), partitionCount, logger,
    });
    assert.equal(resumed.skipped, stopped.read);
    assert.equal(stopped.read + resumed.read, 3000);
    const ids = [...first.messages('ecommerce_topic'), ...second.messages('ecommerce_topic')].map((m) => (JSON.parse(String(m.value)) as { eventId: string }).eventId);
    const lines = [...first.messages('ecommerce_dead_letter'), ...second.messages('ecommerce_dead_letter')].map((m) => String(m.key));
    assert.equal(new Set([...ids, ...lines]).size, 3000);
    assert.match(formatReport(resumed), /rows before were skipped/);
  });

  it('stops at a refused batch: exit code 4 and read = sent + rejected + failed', async () => {
    const file = path.join(dir, 'refused.csv');
    await writeGeneratedCsv(file, { rows: 3000, seed: 3 });
    const fake = new FakeProducer();
    fake.failOnBatch = 1;
    const report = await streamFile({ settings: settings(file, { PRODUCER_BATCH_MESSAGES: '500' }), producer: fake.asProducer(), partitionCount, logger });
    assert.equal(report.stoppedBy, 'kafka');
    assert.equal(report.exitCode, exitCodes.kafka);
    assert.equal(report.sent, 500);
    assert.ok(report.failed >= 500);
    assert.equal(report.read, report.sent + report.rejected + report.failed);
    assert.equal(report.deliveredThroughLine, 501);
    assert.match(report.error ?? '', /did not take 500 rows from line 502 on: TOPIC_AUTHORIZATION_FAILED/);
    assert.match(formatReport(report), /\+ failed \d+/);
  });

  it('names the setting to change when Kafka refuses a batch as too large (its compressed share of a partition over max.message.bytes)', async () => {
    const file = path.join(dir, 'too-large.csv');
    await writeGeneratedCsv(file, { rows: 1000, seed: 4 });
    const fake = new FakeProducer();
    fake.failOnBatch = 0;
    // As kafkajs reports it: a protocol error of this type, wrapped once more by its retrier.
    const protocol = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' });
    fake.failure = Object.assign(new Error('protocol error'), { originalError: protocol });
    const report = await streamFile({ settings: settings(file, { PRODUCER_BATCH_BYTES: '50000' }), producer: fake.asProducer(), partitionCount, logger });
    assert.equal(report.exitCode, exitCodes.kafka);
    assert.match(report.error ?? '', /batch of up to 50000 bytes .*lower PRODUCER_BATCH_BYTES, or raise max\.message\.bytes/);
    fake.failOnBatch = 0;
    fake.failure = new Error('TOPIC_AUTHORIZATION_FAILED');
    const other = await streamFile({ settings: settings(file), producer: fake.asProducer(), partitionCount, logger });
    assert.doesNotMatch(other.error ?? '', /PRODUCER_BATCH_BYTES/);
  });

  it('takes four times the batch bytes with gzip as without compression', () => {
    assert.equal(settings('f.csv').batchBytes, 4_000_000);
    assert.equal(settings('f.csv', { PRODUCER_COMPRESSION: 'none' }).batchBytes, 1_000_000);
    assert.equal(settings('f.csv', { PRODUCER_COMPRESSION: 'none', PRODUCER_BATCH_BYTES: '2048' }).batchBytes, 2048);
  });

  it('exits 3 with everything before the unreadable line delivered', async () => {
    const file = path.join(dir, 'broken.csv');
    writeFileSync(file, `${header}\n${good(1)}\n${good(2)}\n"${'x'.repeat(maxRecordBytes + 1)}\n${good(3)}\n`);
    const fake = new FakeProducer();
    const report = await streamFile({ settings: settings(file), producer: fake.asProducer(), partitionCount, logger });
    assert.deepEqual([report.stoppedBy, report.exitCode, report.sent, report.read], ['input', exitCodes.input, 2, 2]);
    assert.match(report.error ?? '', /from line 4 on/);
  });
});

class FakeClock implements Clock {
  time = 1000;
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

describe('pacing', () => {
  it('paces the pipeline: a fixed rate spaces rows on the clock and sends each before sleeping', async () => {
    const file = path.join(dir, 'paced.csv');
    await writeGeneratedCsv(file, { rows: 20, seed: 4 });
    const clock = new FakeClock();
    const fake = new FakeProducer();
    const report = await streamFile({ settings: settings(file, { PRODUCER_RATE: '10' }), producer: fake.asProducer(), partitionCount, logger, clock });
    assert.equal(report.sent, 20);
    assert.equal(clock.time - 1000, 1900);
    // Each wait is a full linger, so nothing sits in a half-filled batch while the producer sleeps.
    assert.equal(fake.batches.length, 20);
  });

  it('sends the same records from the REES46 encoder (unpaced) as from the general path (paced), and the encoder takes the plain rows', async () => {
    const file = path.join(dir, 'encoder.csv');
    await writeGeneratedCsv(file, { rows: 2000, seed: 5, malformedRate: 0.02, lateRate: 0.01 });
    const encode = mock.method(Rees46RowEncoder.prototype, 'encode');
    const taken = (): number => encode.mock.calls.filter((call) => call.result === true).length;
    try {
      const run = async (extra: Record<string, string>) => {
        const fake = new FakeProducer();
        const report = await streamFile({ settings: settings(file, extra), producer: fake.asProducer(), partitionCount, logger });
        const events = fake.messages('ecommerce_topic').map((m) => `${m.partition} ${String(m.key)} ${String(m.value)}`).sort();
        const dead = fake.messages('ecommerce_dead_letter').map((m) => `${String(m.key)} ${String(m.value)}`).sort();
        return { events, dead, report };
      };
      for (const key of ['session', 'none']) {
        encode.mock.resetCalls();
        const unpaced = await run({ PRODUCER_KEY: key });
        assert.ok(taken() > 1900, `the encoder took ${taken()} of 2000 rows`);
        encode.mock.resetCalls();
        const paced = await run({ PRODUCER_KEY: key, PRODUCER_RATE: '100000' });
        assert.equal(encode.mock.callCount(), 0, 'paced rows take the general path');
        assert.deepEqual(unpaced, paced);
        assert.equal(unpaced.events.length + unpaced.dead.length, 2000);
      }
    } finally {
      encode.mock.restore();
    }
  });

  it('gives the same event ids, dead letters and "delivered through" paced or not, with an unclosed quote at the end (issue 15)', async () => {
    const file = path.join(dir, 'paced-tail.csv');
    await writeGeneratedCsv(file, { rows: 300, seed: 11, malformedRate: 0.02 });
    appendFileSync(file, '2019-10-01 00:59:59 UTC,"view,1,2,a.b,c,1.00,u,s\n');
    const run = async (extra: Record<string, string>) => {
      const fake = new FakeProducer();
      const report = await streamFile({ settings: settings(file, extra), producer: fake.asProducer(), partitionCount, logger });
      const ids = fake.messages('ecommerce_topic').map((m) => (JSON.parse(String(m.value)) as { eventId: string }).eventId).sort();
      const dead = fake.messages('ecommerce_dead_letter').map((m) => `${String(m.key)} ${String(m.headers!.reason)}`).sort();
      return { ids, dead, through: report.deliveredThroughLine, reasons: report.rejectedByReason };
    };
    const unpaced = await run({});
    const paced = await run({ PRODUCER_RATE: '500' });
    assert.deepEqual(paced, unpaced);
    assert.equal(unpaced.through, 302);
    assert.ok(unpaced.dead.includes('paced-tail.csv:302 csv_syntax'), unpaced.dead.join('\n'));
  });

  it('never waits as fast as possible', () => {
    const pacer = new Pacer({ mode: 'max' }, new FakeClock());
    assert.deepEqual([1, 2, 3].map((t) => pacer.delayFor(t)), [0, 0, 0]);
  });

  it('spaces events evenly at a fixed rate, without drift after a late wake-up', () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ mode: 'rate', eventsPerSecond: 50 }, clock);
    assert.equal(pacer.delayFor(0), 0);
    assert.equal(pacer.delayFor(0), 20);
    clock.time += 45; // woke up late: the next event is already due, the one after keeps the grid
    assert.equal(pacer.delayFor(0), 0);
    assert.equal(pacer.delayFor(0), 15);
  });

  it('replays event-time gaps divided by the speed; out-of-order events go at once', () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ mode: 'replay', speed: 10 }, clock);
    assert.equal(pacer.delayFor(60_000), 0);
    assert.equal(pacer.delayFor(70_000), 1000);
    assert.equal(pacer.delayFor(50_000), 0);
    clock.time += 1000;
    assert.equal(pacer.delayFor(130_000), 6000);
  });
});

describe('progress', () => {
  it('logs a progress line every interval when there is no terminal', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const lines: Record<string, unknown>[] = [];
    const capture = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    let read = 0;
    const progress = startProgress(() => ({ read, sent: read, rejected: 0, bytesRead: read * 10, totalBytes: 1000 }), { logger: capture, intervalSeconds: 5 });
    read = 40;
    t.mock.timers.tick(4999);
    assert.equal(lines.length, 0);
    t.mock.timers.tick(1);
    read = 90;
    t.mock.timers.tick(5000);
    progress.stop();
    t.mock.timers.tick(10_000);
    assert.deepEqual(lines.map((l) => [l.msg, l.read, l.bytesRead]), [['progress', 40, 400], ['progress', 90, 900]]);
  });

  it('draws a bar with share, rate and ETA from the bytes read', () => {
    const bar = formatBar({ read: 5000, sent: 4990, rejected: 10, bytesRead: 250, totalBytes: 1000 }, 10, 100);
    assert.match(bar, /^\[#{10}\.{30}\] {2}25\.0% 5,000 rows \(10 rejected\) 500\/s ETA 30s$/);
    assert.equal(formatDuration(3725), '1h02m');
    assert.equal(formatDuration(125), '2m05s');
  });
});
