// What the pipeline committed, compared with the independent oracle (test/support/oracle.ts) fed
// with what is really on the raw topic: the same check as the consumer's end-to-end tests.
import type { Admin, Kafka } from 'kafkajs';
import type { ConsumerSettings } from '../../../services/consumer/config';
import { readAll } from '../../support/consumer-run';
export { lateOf, resultsOf } from '../../support/consumer-run';
import { oracle, type OracleEvent, type OracleOutput } from '../../support/oracle';

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
