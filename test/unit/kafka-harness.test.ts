// The pure parts of the broker harness.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plaintextProperties, randomClusterId, type NodeContext } from '../../tools/kafka/kafka-cluster';
import { freePorts } from '../../tools/kafka/free-port';

const ctx: NodeContext = {
  nodeId: 2, nodeCount: 3, host: '127.0.0.1', dir: '/tmp/x/node-2', dataDir: '/tmp/x/node-2/data',
  ports: { controller: 9093, internal: 9092, external: 9094 }, voters: '1@127.0.0.1:1,2@127.0.0.1:9093,3@127.0.0.1:3',
};

describe('broker harness', () => {
  it('cluster ids are 22 url-safe base64 characters (Kafka Uuid) and differ', () => {
    const a = randomClusterId();
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a, randomClusterId());
    // kafka-storage's argument parser would take a leading '-' for an option.
    for (let i = 0; i < 2000; i++) assert.ok(!randomClusterId().startsWith('-'));
  });

  it('plaintext properties name the node, the quorum and every listener port', () => {
    const props = new Map(plaintextProperties(ctx).trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
    assert.equal(props.get('node.id'), '2');
    assert.equal(props.get('controller.quorum.voters'), ctx.voters);
    assert.equal(props.get('listeners'), 'CONTROLLER://127.0.0.1:9093,INTERNAL://127.0.0.1:9092,EXTERNAL://127.0.0.1:9094');
    assert.equal(props.get('offsets.topic.replication.factor'), '3');
    assert.equal(props.get('log.dirs'), ctx.dataDir);
  });

  it('free ports are distinct and bindable', async () => {
    const ports = await freePorts(5);
    assert.equal(new Set(ports).size, 5);
    for (const p of ports) assert.ok(p > 0 && p < 65536);
  });
});
