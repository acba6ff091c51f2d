// What the producer, an exactly-once source, must leave behind however often it was stopped on the
// way (killed, stopped, fenced, its container replaced): every good row of the file once on the raw
// topic, every malformed row once on the dead-letter topic (both read_committed), and one
// end-of-input marker per raw partition for each time the file was read to its end.
import assert from 'node:assert/strict';
import type { Admin, Kafka } from 'kafkajs';
import { controlHeader, endOfInput } from '../../services/core/end-of-input';
import type { EcommerceEvent } from '../../services/core/event';
import type { DeadLetterValue } from '../../services/producer/dead-letter';
import { generateRows, type GenerateOptions } from '../../services/producer/generator';
import { readAll } from './consumer-run';

export interface SourceExpectation {
  /** The file's name as the producer sees it (its eventIds are `<name>:<line>`). */
  fileName: string;
  /** eventIds of the good rows. */
  good: Set<string>;
  /** Lines of the malformed rows. */
  badLines: Set<number>;
  lastLine: number;
}

/** The expectation for a file the generator wrote with `options`. */
export function expectGenerated(fileName: string, options: GenerateOptions): SourceExpectation {
  const expected: SourceExpectation = { fileName, good: new Set(), badLines: new Set(), lastLine: 0 };
  for (const row of generateRows(options)) {
    if (row.malformed) expected.badLines.add(row.line);
    else expected.good.add(`${fileName}:${row.line}`);
    expected.lastLine = row.line;
  }
  return expected;
}

/**
 * Asserts exactly once on both topics. Dead letters of other origins or files (a test's own
 * records) are left out; `ends` is how many times the file was read to its end.
 */
export async function assertSourceExactlyOnce(
  kafka: Kafka, admin: Admin, topics: { raw: string; deadLetter: string }, expected: SourceExpectation, options: { partitions: number; ends?: number },
): Promise<void> {
  const records = await readAll(kafka, admin, topics.raw, 120_000);
  const markers = records.filter((r) => r.headers[controlHeader] === endOfInput);
  const partitions = Array.from({ length: options.partitions }, (_, p) => p);
  assert.deepEqual(markers.map((m) => m.partition).sort((a, b) => a - b), partitions.flatMap((p) => Array<number>(options.ends ?? 1).fill(p)), 'end-of-input markers per raw partition');
  const seen = new Set<string>();
  for (const record of records.filter((r) => r.headers[controlHeader] === undefined)) {
    const id = (JSON.parse(record.value!) as EcommerceEvent).eventId;
    assert.ok(!seen.has(id), `${id} is on ${topics.raw} twice`);
    seen.add(id);
  }
  const missing = [...expected.good].filter((id) => !seen.has(id));
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} events missing from ${topics.raw}`);
  assert.equal(seen.size, expected.good.size, `${seen.size} events on ${topics.raw}, expected ${expected.good.size}`);
  const dead = (await readAll(kafka, admin, topics.deadLetter)).filter((d) => d.headers.origin === 'producer' && d.headers.file === expected.fileName);
  const lines = dead.map((d) => (JSON.parse(d.value!) as DeadLetterValue).line);
  assert.equal(new Set(lines).size, lines.length, `a rejected row is on ${topics.deadLetter} twice`);
  assert.deepEqual(lines.sort((a, b) => a - b), [...expected.badLines].sort((a, b) => a - b));
}

/** The producer's account of the whole file over every run, from its report line (`… the file over every run: read N = sent S + rejected R, complete`). */
export function wholeFileReport(log: string): { read: number; sent: number; rejected: number; complete: boolean } | undefined {
  const all = [...log.matchAll(/the file over every run: read (\d+) = sent (\d+) \+ rejected (\d+)(, complete)?/g)];
  const last = all.at(-1);
  return last ? { read: Number(last[1]), sent: Number(last[2]), rejected: Number(last[3]), complete: last[4] !== undefined } : undefined;
}
