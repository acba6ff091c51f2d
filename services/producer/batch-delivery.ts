// How one batch reaches Kafka. Exactly once (the service): one Kafka transaction per batch holding
// its events, its dead letters and the file position they bring the run to (source-offsets.ts), so
// a batch and its position are visible to read_committed readers together or not at all. Plain
// (library use without a position topic): idempotent sends, at least once across restarts.
import type { CompressionTypes, Kafka, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import { readCompactedTopic } from '../core/compacted-topic';
import { endOfInputMessages } from '../core/end-of-input';
import { parsePosition, positionKey, positionValue, type FileIdentity, type SourcePosition } from './source-offsets';
import type { VerifiedSender } from './verified-send';

/** Where a batch brings the file: its last record, and what it adds to the run's counts. */
export interface BatchEnd {
  line: number;
  byteOffset: number;
  events: number;
  deadLetters: number;
  /** The batch ends the file. */
  complete: boolean;
}

export interface BatchDelivery {
  deliver(sender: VerifiedSender, topicMessages: TopicMessages[], compression: CompressionTypes, end: BatchEnd): Promise<void>;
}

export class PlainDelivery implements BatchDelivery {
  constructor(private readonly producer: Producer) {}

  async deliver(sender: VerifiedSender, topicMessages: TopicMessages[], compression: CompressionTypes): Promise<void> {
    if (topicMessages.length > 0) await sender.send(this.producer, topicMessages, { acks: -1, compression });
  }
}

export interface TransactionalDeliveryOptions {
  /** A connected kafkajs producer with a transactional.id. */
  producer: Producer;
  offsetsTopic: string;
  identity: FileIdentity;
  /** The committed position this run resumes after, if it does. */
  resumed: SourcePosition | undefined;
  /** The raw topic and its partition count: the end of the file puts a marker on each partition. */
  rawTopic: string;
  rawPartitions: number;
}

export class TransactionalDelivery implements BatchDelivery {
  private sent: number;
  private rejected: number;
  private complete: boolean;

  constructor(private readonly options: TransactionalDeliveryOptions) {
    this.sent = options.resumed?.sent ?? 0;
    this.rejected = options.resumed?.rejected ?? 0;
    this.complete = options.resumed?.complete ?? false;
  }

  /** What the file has put on the topics over every run, as committed. */
  get wholeFile(): { sent: number; rejected: number; complete: boolean } {
    return { sent: this.sent, rejected: this.rejected, complete: this.complete };
  }

  async deliver(sender: VerifiedSender, topicMessages: TopicMessages[], compression: CompressionTypes, end: BatchEnd): Promise<void> {
    const { resumed, identity } = this.options;
    // A rerun over a file already delivered to its end, unchanged: nothing new, not even a marker.
    if (end.complete && end.events + end.deadLetters === 0 && resumed?.complete && resumed.line === end.line && resumed.file.size === identity.size) return;
    const position: SourcePosition = {
      file: identity, line: end.line, byteOffset: end.byteOffset,
      sent: this.sent + end.events, rejected: this.rejected + end.deadLetters, complete: end.complete,
    };
    const withPosition = [...topicMessages, { topic: this.options.offsetsTopic, messages: [{ key: positionKey(identity), value: positionValue(position), partition: 0 }] }];
    if (end.complete) {
      const marker = { file: identity.name, line: end.line, sent: position.sent, rejected: position.rejected };
      withPosition.push({ topic: this.options.rawTopic, messages: endOfInputMessages(this.options.rawPartitions, marker) });
    }
    const transaction = await this.options.producer.transaction();
    try {
      await sender.send(transaction, withPosition, { acks: -1, compression });
      await transaction.commit();
    } catch (error) {
      // Nothing of the batch becomes visible; a restart resumes after the last committed position.
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    this.sent = position.sent;
    this.rejected = position.rejected;
    this.complete = position.complete;
  }
}

/**
 * Fences every earlier producer with the same transactional.id (their open transaction is aborted),
 * then reads the committed position of the file of this name, if any.
 */
export async function fenceAndReadPosition(kafka: Kafka, producer: Producer, offsetsTopic: string, identity: FileIdentity, groupIdPrefix: string, logger: Logger): Promise<SourcePosition | undefined> {
  // The first transaction() runs InitProducerId: the coordinator aborts an earlier instance's open
  // transaction and bumps the epoch, so the earlier instance can never commit again.
  await (await producer.transaction()).abort();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const entries = await readCompactedTopic(kafka, admin, logger, { topic: offsetsTopic, partitions: [0], groupIdPrefix });
    const value = entries.get(0)?.get(positionKey(identity));
    if (value === undefined) return undefined;
    const position = parsePosition(value);
    if (!position) logger.warn({ topic: offsetsTopic, key: positionKey(identity), value }, 'stored position is unreadable: starting from line 1');
    return position;
  } finally {
    await admin.disconnect();
  }
}
