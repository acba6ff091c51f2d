// The dead-letter record for a row that could not become an event: the JSON value carries everything
// needed to fix and replay it (file, line, raw text, reason); headers repeat the reason so tools can
// filter without parsing the value.
import type { Message } from 'kafkajs';
import type { RejectReason } from './presets';

export interface DeadLetterValue {
  origin: 'producer';
  file: string;
  line: number;
  /** The record exactly as it was in the file (without its line ending), cut at maxRawChars. */
  raw: string;
  /** Present when raw was cut: the record's full length in characters. */
  rawLength?: number;
  reason: RejectReason;
  error: string;
  preset: string;
}

/**
 * Keeps a dead letter well under the broker's message size limit whatever the row: raw at most
 * 100,000 characters (600 KB as JSON at worst, every character escaped as \uXXXX), the error text at
 * most 1,000 in the value and again in a header, so one bad row can never stop a file.
 */
export const maxRawChars = 100_000;
export const maxErrorChars = 1000;

/** Cuts an oversized raw record, saying how long it was. */
export function withRaw(raw: string): Pick<DeadLetterValue, 'raw' | 'rawLength'> {
  return raw.length > maxRawChars ? { raw: raw.slice(0, maxRawChars), rawLength: raw.length } : { raw };
}

/** Cuts an error text that quotes a huge value. */
export function boundedError(error: string): string {
  return error.length > maxErrorChars ? `${error.slice(0, maxErrorChars - 1)}…` : error;
}

export function deadLetterMessage(dead: DeadLetterValue): Message {
  const value = { ...dead, ...(dead.raw.length > maxRawChars ? withRaw(dead.raw) : {}), error: boundedError(dead.error) };
  return {
    key: `${value.file}:${value.line}`,
    value: JSON.stringify(value),
    headers: { origin: value.origin, reason: value.reason, error: value.error, file: value.file, line: String(value.line) },
  };
}
