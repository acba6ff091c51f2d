// The producer's pipeline for one file: CSV records → events or dead letters → batches → Kafka,
// pulling the next record only when the sender has room, so memory stays flat and a stop (signal)
// loses nothing: every record taken from the file is sent or dead-lettered before it returns.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Message, Producer } from 'kafkajs';
import { ConfigError } from '../core/env';
import type { Logger } from 'pino';
import { PlainDelivery, type BatchDelivery } from './batch-delivery';
import { BatchSender, KafkaDeliveryError } from './batch-sender';
import type { ProducerSettings } from './config';
import { openCsv, PlainRecord, type CsvItem, type CsvSource } from './csv-source';
import { deadLetterMessage, withRaw } from './dead-letter';
import { exitCodes } from './exit-codes';
import { eventKey } from './event-key';
import { Pacer, systemClock, type Clock } from './pacer';
import { compilePreset, Rejection, type CompiledPreset, type RejectReason } from './presets';
import type { ProducerMetrics } from './producer-metrics';
import { Rees46RowEncoder } from './rees46-row-encoder';
import { startProgress } from './progress';
import type { PartitionCounter } from './verified-send';

export interface StreamFileOptions {
  settings: ProducerSettings;
  /** A connected kafkajs producer, idempotent. */
  producer: Producer;
  /** How batches reach Kafka: the service passes a TransactionalDelivery; plain idempotent sends otherwise. */
  delivery?: BatchDelivery;
  /** A committed position this run resumes after (its line overrides a smaller resumeAfterLine). */
  resumeFrom?: { line: number; byteOffset: number };
  /** Partition counts of the two topics (partitionCounterFor in production). */
  partitionCount: PartitionCounter;
  logger: Logger;
  metrics?: ProducerMetrics;
  /** Aborting stops reading; what was read is still delivered. */
  signal?: AbortSignal;
  clock?: Clock;
  /** Draw a progress bar here (a TTY); otherwise progress goes to the log. */
  terminal?: NodeJS.WriteStream;
}

export type StopCause = 'end' | 'signal' | 'kafka' | 'input';

export interface ProducerReport {
  file: string;
  preset: string;
  /** Records skipped because they start at or before resumeAfterLine: not counted as read. */
  skipped: number;
  read: number;
  sent: number;
  rejected: number;
  failed: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Every row up to this line is on a topic; a rerun can start after it. */
  deliveredThroughLine: number;
  stoppedBy: StopCause;
  error?: string;
  exitCode: number;
  /** With a committed position: what the file has put on the topics over every run, through deliveredThroughLine. */
  wholeFile?: { sent: number; rejected: number; complete: boolean };
}

/** In paced modes a partly filled batch waits at most this long before it is sent anyway. */
const lingerMs = 100;

/** Opens the file and matches its header to a preset without sending anything: bad input fails before Kafka is involved. */
export async function checkInput(settings: ProducerSettings): Promise<string> {
  // A bind mount of a path missing on the Docker host shows up as an empty directory.
  if ((await stat(settings.file)).isDirectory()) throw new ConfigError([`PRODUCER_FILE ${settings.file} is a directory, not a CSV file (a dataset path missing on the Docker host?)`]);
  const source = await openCsv(settings.file);
  try {
    return compilePreset(source.header, settings).name;
  } finally {
    source.close();
  }
}

export async function streamFile(options: StreamFileOptions): Promise<ProducerReport> {
  const { settings, logger, metrics } = options;
  const source = await openCsv(settings.file);
  const preset = compilePreset(source.header, settings);
  logger.info({ file: settings.file, preset: preset.name, gzip: source.gzip, bytes: source.totalBytes, pace: settings.pace, key: settings.key }, 'streaming');
  // Unknown (the metadata failed), events are kept as messages and the first send reports the failure.
  const rawPartitions = await options.partitionCount(settings.topics.raw).catch(() => undefined);
  const sender = new BatchSender(options.delivery ?? new PlainDelivery(options.producer), {
    rawTopic: settings.topics.raw, deadLetterTopic: settings.topics.deadLetter, batchMessages: settings.batchMessages,
    batchBytes: settings.batchBytes, compression: settings.compression, partitionCount: options.partitionCount, ...(rawPartitions ? { rawPartitions } : {}),
    onResend: (what) => logger.warn({ unacknowledged: what }, 'kafkajs left partitions of a batch unacknowledged; sending them again'),
    ...(metrics ? { metrics } : {}),
  });
  const state: RunState = { read: 0, skipped: 0, bytes: 0 };
  const progress = startProgress(
    () => ({ read: state.read, sent: sender.totals.sent, rejected: sender.totals.rejected, bytesRead: source.bytesRead(), totalBytes: source.totalBytes }),
    { logger, intervalSeconds: settings.progressIntervalSeconds, terminal: options.terminal },
  );
  const resumeAfterLine = Math.max(settings.resumeAfterLine, options.resumeFrom?.line ?? 0);
  if (options.resumeFrom) sender.startAt(options.resumeFrom.line, options.resumeFrom.byteOffset);
  const row = new RowHandler(settings, source.header, preset, sender, new Pacer(settings.pace, options.clock ?? systemClock), options.signal);
  let { stoppedBy, error } = await pump(source, row, state, { ...options, resumeAfterLine });
  const delivery = await sender.flush(stoppedBy === 'end');
  progress.stop();
  if (sender.error && !error) {
    error = sender.error;
    stoppedBy = 'kafka';
  }
  const exitCode = stoppedBy === 'kafka' || delivery.failed > 0 ? exitCodes.kafka : stoppedBy === 'input' ? exitCodes.input : exitCodes.ok;
  return {
    file: settings.file, preset: preset.name, skipped: state.skipped, read: state.read, sent: delivery.sent, rejected: delivery.rejected, failed: delivery.failed,
    rejectedByReason: delivery.rejectedByReason, deliveredThroughLine: Math.max(delivery.deliveredThroughLine, resumeAfterLine), stoppedBy,
    ...(error ? { error: error.message } : {}), exitCode,
  };
}

interface RunState {
  read: number;
  skipped: number;
  bytes: number;
}

/** Feeds records to the row handler until the file ends, a signal stops it, or something fails. */
async function pump(source: CsvSource, row: RowHandler, state: RunState, options: StreamFileOptions & { resumeAfterLine: number }): Promise<{ stoppedBy: StopCause; error?: Error }> {
  const { metrics, signal, resumeAfterLine } = options;
  if (signal?.aborted) return { stoppedBy: 'signal' };
  try {
    for await (const items of source.batches) {
      for (const item of items) {
        if (item.line <= resumeAfterLine) {
          state.skipped++;
          continue;
        }
        state.read++;
        metrics?.rowsRead.inc();
        metrics?.bytesRead.inc(source.bytesRead() - state.bytes);
        state.bytes = source.bytesRead();
        const queued = row.handle(item);
        if (queued) await queued;
        else if ((state.read & 63) === 0) await yieldToIo();
        // Checked after the row is queued: a record taken from the file is always delivered.
        if (signal?.aborted) return { stoppedBy: 'signal' };
      }
    }
    return { stoppedBy: 'end' };
  } catch (error) {
    return { stoppedBy: error instanceof KafkaDeliveryError ? 'kafka' : 'input', error: error as Error };
  } finally {
    source.close();
  }
}

/**
 * Lets I/O callbacks run. Rows that are already buffered are taken in promise jobs only, which run
 * before any I/O callback: without this, the batch being sent (its compression, its acknowledgement)
 * would wait for the reader to run out of buffered text.
 */
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Turns one CSV item into a queued event or dead letter, waiting for the pacer first. */
class RowHandler {
  private readonly fileName: string;
  /** REES46 rows without quotes go from bytes to bytes (rees46-row-encoder.ts) when nothing is paced. */
  private readonly encoder: Rees46RowEncoder | undefined;

  constructor(
    private readonly settings: ProducerSettings,
    header: string[],
    private readonly preset: CompiledPreset,
    private readonly sender: BatchSender,
    private readonly pacer: Pacer,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.fileName = path.basename(settings.file);
    if (preset.name === 'rees46' && settings.pace.mode === 'max') this.encoder = new Rees46RowEncoder(header, this.fileName, settings.key);
  }

  /** Queues the row's event or dead letter; returns a promise only when the caller must wait (pacing, a batch going out). */
  handle(item: CsvItem): Promise<void> | undefined {
    if (this.encoder && item instanceof PlainRecord && this.encoder.encode(item.text, item.start, item.end, item.line)) return this.sender.addEncodedEvent(this.encoder, item);
    if (item.kind === 'syntax') return this.reject(item, 'csv_syntax', item.message);
    let event;
    try {
      event = this.preset.map(item.fields, `${this.fileName}:${item.line}`);
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      return this.reject(item, error.reason, error.message);
    }
    const delay = this.pacer.delayFor(event.eventTime);
    const message = { key: eventKey(event, this.settings.key), value: JSON.stringify(event) };
    if (delay > 0) return this.paced(delay, message, item);
    return this.sender.addEvent(message, item);
  }

  private async paced(delay: number, message: Message, item: CsvItem): Promise<void> {
    if (this.sender.pendingAgeMs() + delay >= lingerMs) await this.sender.dispatch();
    await abortableSleep(this.pacer, delay, this.signal);
    await this.sender.addEvent(message, item);
  }

  private reject(item: CsvItem, reason: RejectReason, message: string): Promise<void> | undefined {
    const value = { origin: 'producer' as const, file: this.fileName, line: item.line, ...withRaw(item.raw), reason, error: message, preset: this.preset.name };
    return this.sender.addDeadLetter(deadLetterMessage(value), item, reason);
  }
}

function abortableSleep(pacer: Pacer, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return pacer.sleep(ms);
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done);
    void pacer.sleep(ms).then(done);
  });
}

/** The one-line account of a run: `read = sent + rejected` (+ failed when Kafka refused rows). */
export function formatReport(r: ProducerReport): string {
  const failed = r.failed > 0 ? ` + failed ${r.failed}` : '';
  const reasons = Object.entries(r.rejectedByReason).map(([k, v]) => `${k} ${v}`).join(', ');
  const skipped = r.skipped > 0 ? `; ${r.skipped} rows before were skipped (resumed)` : '';
  const whole = r.wholeFile
    ? `; the file over every run: read ${r.wholeFile.sent + r.wholeFile.rejected} = sent ${r.wholeFile.sent} + rejected ${r.wholeFile.rejected}${r.wholeFile.complete ? ', complete' : ''}`
    : '';
  return `${r.file}: read ${r.read} = sent ${r.sent} + rejected ${r.rejected}${failed}${reasons ? ` (${reasons})` : ''}${skipped}; stopped by ${r.stoppedBy}; delivered through line ${r.deliveredThroughLine}${whole}`;
}
