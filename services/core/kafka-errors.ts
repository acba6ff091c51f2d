// Kafka errors kafkajs reports without naming what to change.

const tooLargeTypes = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/**
 * Whether Kafka refused a record batch as larger than the topic's max.message.bytes (kafkajs says
 * "The request included a message larger than the max message size the server will accept",
 * naming neither the topic nor the setting), looking through the errors it wraps.
 */
export function isTooLarge(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause ?? (e as { originalError?: unknown }).originalError) {
    if (tooLargeTypes.has(String((e as { type?: unknown }).type))) return true;
  }
  return false;
}
