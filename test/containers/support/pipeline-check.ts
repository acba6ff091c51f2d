// What the pipeline committed, compared with the independent oracle (test/support/oracle.ts) fed
// with what is really on the raw topic: the same check as the consumer's end-to-end tests.
import assert from 'node:assert/strict';
import type { Admin, Kafka } from 'kafkajs';
import type { ConsumerSettings } from '../../../services/consumer/config';
import { controlHeader, endOfInput } from '../../../services/core/end-of-input';
import { lateOf, readAll, resultsOf, waitFor } from '../../support/consumer-run';
export { lateOf, resultsOf } from '../../support/consumer-run';
import { oracle, type OracleEvent, type OracleOutput } from '../../support/oracle';
import type { EngineStack } from './engine-stack';

/** The raw topic's events, per partition in offset order, through the oracle with the consumer's window settings. */
export async function oracleOfRawTopic(kafka: Kafka, admin: Admin, rawTopic: string, settings: ConsumerSettings): Promise<{ events: number; expected: OracleOutput }> {
  const all = await readAll(kafka, admin, rawTopic, 60_000);
  const records = all.filter((r) => r.headers[controlHeader] === undefined);
  const partitions: OracleEvent[][] = [];
  for (const r of records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))) {
    (partitions[r.partition] ??= []).push(JSON.parse(r.value!) as OracleEvent);
  }
  // The producer's end-of-input markers (one per partition, after its last events) close the last windows too.
  const ended = new Set(all.filter((r) => r.headers[controlHeader] === endOfInput).map((r) => r.partition));
  const expected = oracle(partitions.map((p) => p ?? []), {
    tumblingSizeMs: settings.tumblingSizeMs, slidingSizeMs: settings.slidingSizeMs, slidingAdvanceMs: settings.slidingAdvanceMs,
    graceMs: settings.graceMs, groupBy: settings.groupBy, topN: settings.topN, endOfInput: ended.size > 0 && ended.size >= partitions.length,
  });
  return { events: records.length, expected };
}

/**
 * Once the producer is done: processed_ecommerce_topic equals the oracle of the raw topic, window
 * by window, each once; late records match; and stage 1's output, the repartition topic, holds every
 * valid event once per group key (a batch written twice, see services/core/kafkajs-send-fix.ts,
 * shows there first). Returns how many windows were compared, and how many of them only the end of
 * the input closed.
 */
export async function assertPipelineEqualsOracle(engine: EngineStack, admin: Admin): Promise<{ results: number; endOfInput: number }> {
  const kafka = engine.hostKafka('admin');
  const { expected } = await oracleOfRawTopic(kafka, admin, engine.topicNames.raw, engine.config.services.consumer.settings);
  assert.ok(expected.results.size > 10, 'a dataset worth checking');
  await waitFor(`${expected.results.size} window results`, async () => {
    return (await readAll(kafka, admin, engine.topicNames.processed)).length >= expected.results.size;
  }, 240_000, 2_000);
  const processed = await readAll(kafka, admin, engine.topicNames.processed);
  assert.equal(engine.topicNames.processed, 'processed_ecommerce_topic');
  const copies = new Map<string, number>();
  for (const r of await readAll(kafka, admin, engine.topicNames.repartition, 60_000)) {
    const record = JSON.parse(r.value!) as { type: string; key: string; event?: { eventId: string } };
    if (record.type !== 'event') continue;
    const id = `${record.key} ${record.event!.eventId}`;
    copies.set(id, (copies.get(id) ?? 0) + 1);
  }
  const twice = [...copies].filter(([, n]) => n > 1);
  try {
    assert.deepEqual(resultsOf(processed), expected.results);
  } catch (error) {
    // Which stage counted twice: stage 1's output shows a batch written twice; clean, it was stage 2.
    (error as Error).message += `\n(${twice.length} events on the repartition topic more than once${twice.length > 0 ? `, e.g. ${twice.slice(0, 3).map(([id]) => id).join('; ')}` : ''})`;
    throw error;
  }
  assert.equal(processed.length, expected.results.size);
  assert.deepEqual(lateOf(await readAll(kafka, admin, engine.topicNames.late)), expected.late);
  assert.deepEqual(twice, [], 'events written more than once to the repartition topic');
  return { results: expected.results.size, endOfInput: [...expected.results.values()].filter((r) => r.endOfInput === true).length };
}

/** Offsets in use: records plus the transactions' commit markers, so a little above the record count (progress only). */
export async function rawCount(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
}
