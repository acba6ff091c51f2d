// The end-of-input marker: written by the producer, in its last transaction, once to every raw
// partition when it has delivered its whole file, so the consumer can close the last windows of a
// bounded input instead of waiting for stream time that will never come (Flink's end of a bounded
// source). A header marks it, so it can never be taken for an event or an invalid one.
import type { IHeaders, Message } from 'kafkajs';

export const controlHeader = 'pipeline.control';
export const endOfInput = 'end-of-input';

export interface EndOfInputMarker {
  type: 'end-of-input';
  /** The file delivered, its last line, and the rows it put on the raw and dead-letter topics. */
  file: string;
  line: number;
  sent: number;
  rejected: number;
}

/** One marker per raw partition, each for partition p. */
export function endOfInputMessages(partitions: number, marker: Omit<EndOfInputMarker, 'type'>): Message[] {
  const value = JSON.stringify({ type: endOfInput, ...marker });
  return Array.from({ length: partitions }, (_, partition) => ({ key: `${endOfInput}:${marker.file}`, value, partition, headers: { [controlHeader]: endOfInput } }));
}

export function isEndOfInput(headers: IHeaders | undefined): boolean {
  const value = headers?.[controlHeader];
  return value !== undefined && String(Array.isArray(value) ? value[0] : value) === endOfInput;
}
