// How a test observes that the brokers refused something: the Kafka error code (or the TLS
// failure) behind whatever kafkajs wraps it in.
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

interface ErrorChain {
  type?: unknown;
  message?: unknown;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Every error in kafkajs' wrapping chain (originalError, cause, retried errors). */
export function errorChain(error: unknown): ErrorChain[] {
  const out: ErrorChain[] = [];
  const visit = (e: unknown): void => {
    if (typeof e !== 'object' || e === null || out.includes(e)) return;
    const err = e as ErrorChain;
    out.push(err);
    visit(err.originalError);
    visit(err.cause);
    if (Array.isArray(err.errors)) err.errors.forEach(visit);
  };
  visit(error);
  return out;
}

/** The first Kafka error code in the chain (e.g. TOPIC_AUTHORIZATION_FAILED), or the first message. */
export function kafkaErrorType(error: unknown): string {
  const chain = errorChain(error);
  const typed = chain.find((e) => typeof e.type === 'string' && e.type !== 'UNKNOWN');
  return typed ? String(typed.type) : chain.map((e) => String(e.message)).join(' <- ');
}

/** A client that fails fast: a refusal must surface as an error, not as retries until a timeout. */
export function failFastKafka(brokers: string[], ssl: KafkaConfig['ssl']): Kafka {
  return new Kafka({ brokers, ssl, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 5_000, requestTimeout: 10_000 });
}

/**
 * Sends one record; resolves 'ok' or the refusal's error type. An idempotent producer first asks for
 * a producer id, which a principal without WRITE on any topic is refused (CLUSTER_AUTHORIZATION_FAILED).
 */
export async function trySend(kafka: Kafka, topic: string, options: { idempotent?: boolean } = {}): Promise<string> {
  // Idempotence insists on retries; an authorization failure is not retriable anyway.
  const idempotent = options.idempotent ?? true;
  const producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : 5, retry: { retries: 2, initialRetryTime: 100 } });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
    return 'ok';
  } catch (error) {
    return kafkaErrorType(error);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Reads the first record of a topic in a group; resolves its value or the refusal's error type. */
export async function tryConsume(kafka: Kafka, topic: string, groupId: string, timeoutMs = 30_000): Promise<string> {
  // A few retries: the first group in a cluster waits for __consumer_offsets; refusals never retry.
  const consumer = kafka.consumer({ groupId, retry: { retries: 5, initialRetryTime: 200 } });
  try {
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), timeoutMs);
      const done = (result: string): void => {
        clearTimeout(timer);
        resolve(result);
      };
      consumer.on(consumer.events.CRASH, (event) => done(kafkaErrorType(event.payload.error)));
      consumer
        .connect()
        .then(() => consumer.subscribe({ topic, fromBeginning: true }))
        .then(() => consumer.run({ eachMessage: async ({ message }) => done(message.value?.toString() ?? '') }))
        .catch((error: unknown) => done(kafkaErrorType(error)));
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
