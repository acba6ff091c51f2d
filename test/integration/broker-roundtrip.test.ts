// The harness runs a real KRaft broker: records produced through it come back byte for byte.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KafkaCluster } from '../../tools/kafka/kafka-cluster';
import { consumeUntil } from '../support/consume';

describe('single-node KRaft broker from the harness', () => {
  let cluster: KafkaCluster;
  before(async () => {
    cluster = await KafkaCluster.start({ nodes: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('round-trips keys, values and headers through a real topic', async () => {
    const kafka = cluster.kafka();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'roundtrip', numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();

    const sent = Array.from({ length: 300 }, (_, i) => ({
      key: `k${i % 17}`,
      value: JSON.stringify({ i, text: `payload ${i} ✓`, nested: { even: i % 2 === 0 } }),
      headers: { seq: String(i) },
    }));
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: 'roundtrip', acks: -1, messages: sent });
    await producer.disconnect();

    const got = await consumeUntil(kafka, 'roundtrip', (r) => r.length >= sent.length);
    assert.equal(got.length, sent.length);
    const bySeq = new Map(got.map((r) => [r.headers.seq, r]));
    for (const [i, message] of sent.entries()) {
      const record = bySeq.get(String(i));
      assert.ok(record, `record ${i} missing`);
      assert.equal(record.key, message.key);
      assert.equal(record.value, message.value);
    }
    // Same key, same partition: per-key order is what the pipeline relies on.
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of got) partitionsByKey.set(r.key!, (partitionsByKey.get(r.key!) ?? new Set()).add(r.partition));
    for (const [key, partitions] of partitionsByKey) assert.equal(partitions.size, 1, `key ${key} spread over ${[...partitions].join(',')}`);
  });

  it('runs its broker JVM for a quick start (C1 alone) unless asked for the server JIT', () => {
    const args = jvmArgsOf(path.join(cluster.context(1).dir, 'server.properties'));
    assert.ok(args.includes('kafka.Kafka'), `the broker's command line: ${args.join(' ')}`);
    assert.ok(args.includes('-XX:TieredStopAtLevel=1'), `the broker's command line: ${args.join(' ')}`);
  });
});

/** The command line of the JVM started with the given server.properties (from /proc). */
function jvmArgsOf(propertiesFile: string): string[] {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args[0]?.endsWith('java') && args.includes(propertiesFile)) return args;
  }
  return [];
}
