// Batches events and dead letters into produce requests with one batch in flight while the next one
// fills. One at a time is deliberate: kafkajs gives an idempotent producer's sequence numbers to a
// request before sending it and takes them back if it fails, so two overlapping requests to one
// partition could let the second reuse numbers the broker already stored for the first, and the
// broker would drop it as a duplicate. Big batches, not overlap, give the throughput.
import { CompressionTypes, type Message } from 'kafkajs';
import { RecordsWriter, recordFieldLength } from '../core/encoded-records';
import { isTooLarge } from '../core/kafka-errors';
import type { BatchDelivery } from './batch-delivery';
import type { EncodedRow } from './rees46-row-encoder';
import type { Compression } from './config';
import type { RejectReason } from './presets';
import type { ProducerMetrics } from './producer-metrics';
import { partitionForKey, partitionForKeyBytes } from './key-partition';
import { VerifiedSender, type PartitionCounter } from './verified-send';

export interface BatchSenderOptions {
  rawTopic: string;
  deadLetterTopic: string;
  batchMessages: number;
  batchBytes: number;
  compression: Compression;
  partitionCount: PartitionCounter;
  /**
   * The raw topic's partition count. Given, events are encoded into their partition's records as
   * they are added (services/core/encoded-records.ts) instead of kept as messages until the batch is
   * sent; their partitions are chosen then, as kafkajs would (a key's murmur2; round robin without one).
   */
  rawPartitions?: number;
  /** Told when partitions of a batch went unacknowledged and are sent again. */
  onResend?: (what: string) => void;
  metrics?: ProducerMetrics;
  now?: () => number;
}

interface Batch {
  /** Events kept as messages (without rawPartitions, or with headers or a timestamp). */
  events: Message[];
  /** Events encoded, by partition. */
  records: Map<number, RecordsWriter>;
  eventCount: number;
  deadLetters: Message[];
  reasons: RejectReason[];
  bytes: number;
  openedAt: number;
  lastLine: number;
  lastByte: number;
}

/** Where a row is in the file: the line its record starts on, and the byte after it. */
export interface RowPlace {
  line: number;
  endByte: number;
}

export interface Delivery {
  sent: number;
  rejected: number;
  /** Rows in batches Kafka would not take: not on any topic. */
  failed: number;
  /** The last line of the last batch Kafka acknowledged: every row up to here is on a topic. */
  deliveredThroughLine: number;
  /** Dead letters on the topic by reason: adds up to `rejected`, so a report never counts a rejection that failed. */
  rejectedByReason: Partial<Record<RejectReason, number>>;
}

export class KafkaDeliveryError extends Error {
  constructor(readonly rows: number, readonly firstLine: number, cause: Error, batchBytes?: number) {
    const hint = batchBytes !== undefined && isTooLarge(cause)
      ? ` (a partition's share of a batch of up to ${batchBytes} bytes was over the topic's max.message.bytes after compression: lower PRODUCER_BATCH_BYTES, or raise max.message.bytes on the topic)`
      : '';
    super(`Kafka did not take ${rows} rows from line ${firstLine} on: ${cause.message}${hint}`, { cause });
    this.name = 'KafkaDeliveryError';
  }
}

export class BatchSender {
  private batch: Batch;
  private inFlight: Promise<void> = Promise.resolve();
  private readonly delivery: Delivery = { sent: 0, rejected: 0, failed: 0, deliveredThroughLine: 0, rejectedByReason: {} };
  private failure: KafkaDeliveryError | undefined;
  private readonly now: () => number;
  private readonly compression: CompressionTypes;
  private readonly sender: VerifiedSender;
  /** Where the last batch ended, so an empty final batch keeps the position. */
  private lastEnd = { lastLine: 0, lastByte: 0 };
  private readonly partitions = new Map<string, Promise<number>>();
  private roundRobin = 0;

  constructor(private readonly transport: BatchDelivery, private readonly options: BatchSenderOptions) {
    this.sender = new VerifiedSender(options.partitionCount, options.onResend);
    this.now = options.now ?? (() => performance.now());
    this.compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.batch = this.emptyBatch();
  }

  /** The first delivery failure; once set, nothing more is sent. */
  get error(): KafkaDeliveryError | undefined {
    return this.failure;
  }

  get totals(): Readonly<Delivery> {
    return this.delivery;
  }

  /** Milliseconds since the oldest pending message was added (0 when empty). */
  pendingAgeMs(): number {
    return this.pendingCount() === 0 ? 0 : this.now() - this.batch.openedAt;
  }

  pendingCount(): number {
    return this.batch.eventCount + this.batch.deadLetters.length;
  }

  /** Queues an event; returns a promise only when the caller must wait (a batch went out): one await less per row. */
  addEvent(message: Message, at: RowPlace): Promise<void> | undefined {
    return this.enqueue(message, at, undefined);
  }

  /**
   * Queues an event already encoded (rees46-row-encoder.ts): written straight into its partition's
   * records, as addEvent would write the same key and value. The row is read before this returns.
   */
  addEncodedEvent(row: EncodedRow, at: RowPlace): Promise<void> | undefined {
    const partitions = this.options.rawPartitions;
    const bytes = recordOverhead + Math.max(row.keyLength, 0) + row.valueLength;
    // Kept as a message (no partition count yet) or queued after a dispatch: a copy of its bytes, as addEvent takes it.
    if (!partitions || (this.pendingCount() > 0 && this.batch.bytes + bytes > this.options.batchBytes)) return this.addEvent(messageOf(row), at);
    const partition = row.keyLength < 0 ? this.roundRobin++ % partitions : partitionForKeyBytes(row.keyBytes, partitions, row.keyStart, row.keyStart + row.keyLength);
    this.place(bytes, at);
    this.batch.eventCount++;
    this.recordsOf(partition).addWritten(row.keyBytes, row.keyStart, row.keyLength, row);
    return this.pendingCount() >= this.options.batchMessages ? this.dispatch() : undefined;
  }

  addDeadLetter(message: Message, at: RowPlace, reason: RejectReason): Promise<void> | undefined {
    return this.enqueue(message, at, reason);
  }

  /**
   * Sends what is pending and waits until every batch is acknowledged or has failed. At the end of
   * the file (`complete`) the last batch says so, even an empty one (then only the position moves).
   */
  async flush(complete = false): Promise<Delivery> {
    await this.inFlight;
    if (this.pendingCount() > 0 && this.failure) {
      // After a failure nothing more is sent, so rows still pending are failed rows too.
      this.delivery.failed += this.pendingCount();
      this.batch = this.emptyBatch();
    } else if (!this.failure && (this.pendingCount() > 0 || complete)) {
      await this.dispatch(complete);
      await this.inFlight;
    }
    return this.delivery;
  }

  /** Starts sending the pending batch once the previous one is acknowledged. Throws after a failure. */
  async dispatch(complete = false): Promise<void> {
    await this.inFlight;
    if (this.failure) throw this.failure;
    const batch = this.batch;
    this.batch = this.emptyBatch();
    if (batch.eventCount + batch.deadLetters.length === 0 && !complete) return;
    if (batch.lastLine === 0) Object.assign(batch, this.lastEnd);
    this.lastEnd = { lastLine: batch.lastLine, lastByte: batch.lastByte };
    this.inFlight = this.send(batch, complete);
  }

  /** Starts the position of an empty final batch at a resumed run's committed one. */
  startAt(line: number, byteOffset: number): void {
    this.lastEnd = { lastLine: line, lastByte: byteOffset };
    this.delivery.deliveredThroughLine = line;
  }

  /** Adds a message, sending the pending batch first if the message would take it over batchBytes. */
  private enqueue(message: Message, at: RowPlace, reason: RejectReason | undefined): Promise<void> | undefined {
    const partitions = this.options.rawPartitions;
    // Kept as a message: partition -1. Encoded: the partition it is encoded into, and its key's and value's lengths.
    let bytes: number;
    let partition = -1;
    let keyLength = 0;
    let valueLength = 0;
    if (reason || !partitions || message.headers || message.timestamp !== undefined) {
      bytes = size(message);
    } else {
      const key = message.key ?? null;
      keyLength = recordFieldLength(key);
      valueLength = recordFieldLength(message.value);
      bytes = recordOverhead + Math.max(keyLength, 0) + Math.max(valueLength, 0);
      partition = message.partition ?? (typeof key === 'string' ? partitionForKey(key, partitions) : key ? partitionForKeyBytes(key, partitions) : this.roundRobin++ % partitions);
    }
    if (this.pendingCount() > 0 && this.batch.bytes + bytes > this.options.batchBytes) return this.enqueueAfterDispatch(message, bytes, at, reason, partition, keyLength, valueLength);
    this.queue(message, bytes, at, reason, partition, keyLength, valueLength);
    return this.pendingCount() >= this.options.batchMessages ? this.dispatch() : undefined;
  }

  private async enqueueAfterDispatch(message: Message, bytes: number, at: RowPlace, reason: RejectReason | undefined, partition: number, keyLength: number, valueLength: number): Promise<void> {
    const failure = await this.dispatch().then(() => undefined, (error: unknown) => error as Error);
    // Queued even after a failure, so flush() counts it among the failed rows.
    this.queue(message, bytes, at, reason, partition, keyLength, valueLength);
    if (failure) throw failure;
    if (this.pendingCount() >= this.options.batchMessages) await this.dispatch();
  }

  /** Adds a row to the batch: a partition ≥ 0 encodes the event into that partition's records. */
  private queue(message: Message, bytes: number, at: RowPlace, reason: RejectReason | undefined, partition: number, keyLength: number, valueLength: number): void {
    const batch = this.batch;
    this.place(bytes, at);
    if (reason) {
      batch.deadLetters.push(message);
      batch.reasons.push(reason);
      return;
    }
    batch.eventCount++;
    if (partition < 0) {
      batch.events.push(message);
      return;
    }
    this.recordsOf(partition).add(message.key ?? null, keyLength, message.value, valueLength);
  }

  /** Counts a row's bytes in the batch and moves the batch's end to it. */
  private place(bytes: number, at: RowPlace): void {
    const batch = this.batch;
    if (this.pendingCount() === 0) batch.openedAt = this.now();
    batch.bytes += bytes;
    batch.lastLine = at.line;
    batch.lastByte = at.endByte;
  }

  private recordsOf(partition: number): RecordsWriter {
    let records = this.batch.records.get(partition);
    if (!records) this.batch.records.set(partition, (records = new RecordsWriter(this.options.batchBytes / this.options.rawPartitions! + 16 * 1024)));
    return records;
  }

  private async send(batch: Batch, complete: boolean): Promise<void> {
    const { metrics } = this.options;
    // Encoded records first: a partition's stand-ins must lead its messages (encoded-records.ts).
    const encoded = [...batch.records].sort(([a], [b]) => a - b).flatMap(([partition, records]) => records.messages(partition));
    const topicMessages = [
      { topic: this.options.rawTopic, messages: encoded.concat(batch.events) },
      { topic: this.options.deadLetterTopic, messages: batch.deadLetters },
    ].filter((t) => t.messages.length > 0);
    const rows = batch.eventCount + batch.deadLetters.length;
    metrics?.inflightBatches.inc();
    const stopTimer = metrics?.sendDuration.startTimer();
    try {
      for (const { topic, messages } of topicMessages) await this.assignKeyedPartitions(topic, messages);
      await this.transport.deliver(this.sender, topicMessages, this.compression, {
        line: batch.lastLine, byteOffset: batch.lastByte, events: batch.eventCount, deadLetters: batch.deadLetters.length, complete,
      });
      stopTimer?.();
      this.delivery.sent += batch.eventCount;
      this.delivery.rejected += batch.deadLetters.length;
      this.delivery.deliveredThroughLine = batch.lastLine;
      metrics?.rowsSent.inc(batch.eventCount);
      for (const reason of batch.reasons) {
        metrics?.rowsRejected.inc({ reason });
        this.delivery.rejectedByReason[reason] = (this.delivery.rejectedByReason[reason] ?? 0) + 1;
      }
    } catch (error) {
      this.delivery.failed += rows;
      const firstLine = this.delivery.deliveredThroughLine + 1;
      this.failure ??= new KafkaDeliveryError(rows, firstLine, error as Error, this.options.batchBytes);
    } finally {
      metrics?.inflightBatches.dec();
    }
  }

  /**
   * Chooses the partition of each keyed message as VerifiedSender would, only faster (key-partition.ts);
   * messages without a key are left to VerifiedSender's round robin.
   */
  private async assignKeyedPartitions(topic: string, messages: Message[]): Promise<void> {
    let count = this.partitions.get(topic);
    if (!count) this.partitions.set(topic, (count = this.options.partitionCount(topic)));
    const partitions = await count;
    for (const message of messages) {
      if (message.partition === undefined && typeof message.key === 'string') message.partition = partitionForKey(message.key, partitions);
    }
  }

  private emptyBatch(): Batch {
    return { events: [], records: new Map(), eventCount: 0, deadLetters: [], reasons: [], bytes: 0, openedAt: 0, lastLine: 0, lastByte: 0 };
  }
}

/** An encoded row as the message addEvent takes for its event (an encoded row is ASCII). */
function messageOf(row: EncodedRow): Message {
  const key = row.keyLength < 0 ? null : row.keyBytes.toString('latin1', row.keyStart, row.keyStart + row.keyLength);
  const value = Buffer.allocUnsafe(row.valueLength);
  row.writeValue(value, 0);
  return { key, value: value.toString('latin1') };
}

/** What a batch counts for a record besides its key, value and headers. */
const recordOverhead = 70;

/** Bytes as the broker counts them (UTF-8), not characters: a row of multi-byte text is up to three times its length. */
function size(message: Message): number {
  let bytes = recordOverhead + utf8Length(message.key) + utf8Length(message.value);
  if (message.headers) for (const name in message.headers) bytes += name.length + headerLength(message.headers[name]);
  return bytes;
}

function utf8Length(value: Buffer | string | null | undefined): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value ? value.length : 0;
}

function headerLength(value: unknown): number {
  return typeof value === 'string' || Buffer.isBuffer(value) ? utf8Length(value) : 0;
}
