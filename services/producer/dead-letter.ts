// The dead-letter record for a row that could not become an event: the JSON value carries everything
// needed to fix and replay it (file, line, raw text, reason); headers repeat the reason so tools can
// filter without parsing the value.
import type { Message } from 'kafkajs';
import type { RejectReason } from './presets';

export interface DeadLetterValue {
  origin: 'producer';
  file: string;
  line: number;
  /** The record exactly as it was in the file (without its line ending). */
  raw: string;
  reason: RejectReason;
  error: string;
  preset: string;
}

export function deadLetterMessage(value: DeadLetterValue): Message {
  return {
    key: `${value.file}:${value.line}`,
    value: JSON.stringify(value),
    headers: { origin: value.origin, reason: value.reason, error: value.error, file: value.file, line: String(value.line) },
  };
}
