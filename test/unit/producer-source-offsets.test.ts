// The producer's exactly-once source without a broker: which file counts as the same one (resume),
// a grown one (resume, more rows) or a different one (start over); and what one batch's
// transaction holds: its rows, the position they reach, and at the end of the file a marker per
// raw partition, aborted as a whole when anything fails.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CompressionTypes, type Producer, type ProducerBatch, type RecordMetadata } from 'kafkajs';
import { controlHeader, endOfInput } from '../../services/core/end-of-input';
import { TransactionalDelivery } from '../../services/producer/batch-delivery';
import { decideResume, fileIdentity, headBytes, parsePosition, positionValue, type SourcePosition } from '../../services/producer/source-offsets';
import { VerifiedSender } from '../../services/producer/verified-send';

const dir = mkdtempSync(path.join(os.tmpdir(), 'source-offsets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function positionFor(file: string, line: number): Promise<SourcePosition> {
  return { file: await fileIdentity(file), line, byteOffset: 10, sent: line - 1, rejected: 0, complete: false };
}

describe('which file a committed position belongs to', () => {
  it('the same file resumes; a grown one resumes; another one, or a shorter one, starts over', async () => {
    const file = path.join(dir, 'events.csv');
    writeFileSync(file, `header\n${'row\n'.repeat(100)}`);
    assert.deepEqual(await decideResume(file, undefined), { kind: 'fresh' });
    const stored = await positionFor(file, 50);
    assert.deepEqual(await decideResume(file, stored), { kind: 'resume', position: stored, grown: false });
    appendFileSync(file, 'more\n');
    assert.deepEqual(await decideResume(file, stored), { kind: 'resume', position: stored, grown: true }, 'the head hashed is the stored length, so a small file may grow');
    writeFileSync(file, `header\n${'ROW\n'.repeat(100)}`);
    const other = await decideResume(file, stored);
    assert.equal(other.kind, 'different');
    assert.match(other.kind === 'different' ? other.why : '', /first \d+ bytes differ/);
    writeFileSync(file, `header\n${'row\n'.repeat(100)}`);
    const grownStored = await positionFor(file, 50);
    writeFileSync(file, `header\n${'row\n'.repeat(10)}`);
    assert.equal((await decideResume(file, grownStored)).kind, 'different', 'shorter: a different file, even with a matching head');
  });

  it('hashes at most the first 64 KiB, and a stored position reads back only when well-formed', async () => {
    const file = path.join(dir, 'big.csv');
    writeFileSync(file, Buffer.alloc(headBytes + 1000, 'a'));
    const identity = await fileIdentity(file);
    assert.deepEqual([identity.name, identity.size, identity.headBytes], ['big.csv', headBytes + 1000, headBytes]);
    const position = await positionFor(file, 7);
    assert.deepEqual(parsePosition(positionValue(position)), position);
    assert.equal(parsePosition('{"schemaVersion":1,"line":-1}'), undefined);
    assert.equal(parsePosition('not json'), undefined);
  });
});

/** Records transactions: what each sent, and whether it committed or aborted. */
class FakeTransactionalProducer {
  transactions: { batches: ProducerBatch[]; result?: 'commit' | 'abort' }[] = [];
  failNext = false;
  async transaction() {
    const t: { batches: ProducerBatch[]; result?: 'commit' | 'abort' } = { batches: [] };
    this.transactions.push(t);
    return {
      sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
        if (this.failNext) {
          this.failNext = false;
          throw new Error('NOT_ENOUGH_REPLICAS');
        }
        t.batches.push(batch);
        return (batch.topicMessages ?? []).flatMap((tm) => [...new Set(tm.messages.map((m) => m.partition!))].map((partition) => ({ topicName: tm.topic, partition, errorCode: 0 })));
      },
      commit: async () => void (t.result = 'commit'),
      abort: async () => void (t.result = 'abort'),
    };
  }
  asProducer(): Producer {
    return this as unknown as Producer;
  }
}

describe('one batch, one transaction', () => {
  const sender = new VerifiedSender(async () => 3);
  const messagesOf = (t: { batches: ProducerBatch[] }, topic: string) => t.batches.flatMap((b) => (b.topicMessages ?? []).filter((tm) => tm.topic === topic).flatMap((tm) => tm.messages));

  it('rows and their position commit together; the last batch adds an end-of-input marker per raw partition', async () => {
    const file = path.join(dir, 'tx.csv');
    writeFileSync(file, 'header\nrow\n');
    const fake = new FakeTransactionalProducer();
    const delivery = new TransactionalDelivery({ producer: fake.asProducer(), offsetsTopic: 'offsets', identity: await fileIdentity(file), resumed: undefined, rawTopic: 'raw', rawPartitions: 3 });
    await delivery.deliver(sender, [{ topic: 'raw', messages: [{ key: 'k', value: 'e' }] }], CompressionTypes.None, { line: 2, byteOffset: 11, events: 1, deadLetters: 0, complete: false });
    await delivery.deliver(sender, [{ topic: 'dead', messages: [{ key: 'k', value: 'd' }] }], CompressionTypes.None, { line: 3, byteOffset: 15, events: 0, deadLetters: 1, complete: true });
    assert.deepEqual(fake.transactions.map((t) => t.result), ['commit', 'commit']);
    const [first, last] = fake.transactions as [(typeof fake.transactions)[0], (typeof fake.transactions)[0]];
    const position = (t: typeof first) => parsePosition(messagesOf(t, 'offsets')[0]!.value as string)!;
    assert.deepEqual([position(first).line, position(first).sent, position(first).complete], [2, 1, false]);
    assert.deepEqual([position(last).line, position(last).sent, position(last).rejected, position(last).complete], [3, 1, 1, true]);
    assert.equal(messagesOf(first, 'raw').length, 1, 'no marker before the end');
    const markers = messagesOf(last, 'raw');
    assert.deepEqual(markers.map((m) => [m.partition, m.headers?.[controlHeader]]), [[0, endOfInput], [1, endOfInput], [2, endOfInput]]);
    assert.deepEqual(delivery.wholeFile, { sent: 1, rejected: 1, complete: true });
  });

  it('a failure aborts the whole transaction; a rerun of a complete, unchanged file sends nothing', async () => {
    const file = path.join(dir, 'tx2.csv');
    writeFileSync(file, 'header\nrow\n');
    const identity = await fileIdentity(file);
    const fake = new FakeTransactionalProducer();
    const delivery = new TransactionalDelivery({ producer: fake.asProducer(), offsetsTopic: 'offsets', identity, resumed: undefined, rawTopic: 'raw', rawPartitions: 3 });
    fake.failNext = true;
    await assert.rejects(delivery.deliver(sender, [{ topic: 'raw', messages: [{ key: 'k', value: 'e' }] }], CompressionTypes.None, { line: 2, byteOffset: 11, events: 1, deadLetters: 0, complete: false }), /NOT_ENOUGH_REPLICAS/);
    assert.deepEqual(fake.transactions.map((t) => t.result), ['abort']);
    const done: SourcePosition = { file: identity, line: 2, byteOffset: 11, sent: 1, rejected: 0, complete: true };
    const rerun = new FakeTransactionalProducer();
    await new TransactionalDelivery({ producer: rerun.asProducer(), offsetsTopic: 'offsets', identity, resumed: done, rawTopic: 'raw', rawPartitions: 3 })
      .deliver(sender, [], CompressionTypes.None, { line: 2, byteOffset: 11, events: 0, deadLetters: 0, complete: true });
    assert.equal(rerun.transactions.length, 0);
  });
});
