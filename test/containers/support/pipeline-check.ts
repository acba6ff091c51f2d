// What the pipeline committed, compared with the independent oracle (test/support/oracle.ts) fed
// with what is really on the raw topic: the same check as the consumer's end-to-end tests.
import assert from 'node:assert/strict';
import type { Admin, Kafka } from 'kafkajs';
import type { ConsumerSettings } from '../../../services/consumer/config';
import type { ConsumedRecord } from '../../support/consume';
import { readAll } from '../../support/consumer-run';
import { oracle, type OracleEvent, type OracleOutput } from '../../support/oracle';

export function resultsOf(records: ConsumedRecord[]): Map<string, unknown> {
  const results = new Map<string, unknown>();
  for (const r of records) {
    assert.ok(!results.has(r.key!), `window ${r.key} committed twice`);
    results.set(r.key!, JSON.parse(r.value!));
  }
  return results;
}

export function lateOf(records: ConsumedRecord[]): Map<string, number[]> {
  const late = new Map<string, number[]>();
  for (const r of records) {
    assert.ok(!late.has(r.key!), `late record ${r.key} committed twice`);
    const value = JSON.parse(r.value!) as { missedWindows: { startMs: number }[] };
    late.set(r.key!, value.missedWindows.map((w) => w.startMs));
  }
  return late;
}

/** The raw topic's events, per partition in offset order, through the oracle with the consumer's window settings. */
export async function oracleOfRawTopic(kafka: Kafka, admin: Admin, rawTopic: string, settings: ConsumerSettings): Promise<{ events: number; expected: OracleOutput }> {
  const records = await readAll(kafka, admin, rawTopic, 60_000);
  const partitions: OracleEvent[][] = [];
  for (const r of records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))) {
    (partitions[r.partition] ??= []).push(JSON.parse(r.value!) as OracleEvent);
  }
  const expected = oracle(partitions.map((p) => p ?? []), {
    tumblingSizeMs: settings.tumblingSizeMs, slidingSizeMs: settings.slidingSizeMs, slidingAdvanceMs: settings.slidingAdvanceMs,
    graceMs: settings.graceMs, groupBy: settings.groupBy, topN: settings.topN,
  });
  return { events: records.length, expected };
}
