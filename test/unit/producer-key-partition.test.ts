// The producer's own murmur2 partitioning must put every key exactly where kafkajs's
// DefaultPartitioner (and so the Java client) would: the consumer's session grouping relies on it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { murmur2, partitionForKey, partitionForKeyBytes } from '../../services/producer/key-partition';

const metadata = (count: number): PartitionMetadata[] => Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));

describe('partitionForKey', () => {
  it('matches kafkajs for ASCII and multi-byte keys of every length remainder', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const alphabet = ['a', 'Z', '0', '-', ':', ' ', 'é', '€', '😀', '\u0000', '\u007f', '\u0080'];
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'e3b0c442-98fc-1c14-9afb-f4c8996fb924', 'events.csv:123456'];
    for (let n = 0; n < 3000; n++) keys.push(Array.from({ length: Math.floor(random() * 40) }, () => (random() < 0.7 ? String.fromCharCode(32 + Math.floor(random() * 95)) : alphabet[Math.floor(random() * alphabet.length)]!)).join(''));
    for (const partitions of [1, 3, 12, 100]) {
      const partitionMetadata = metadata(partitions);
      for (const key of keys) {
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
        assert.equal(partitionForKey(key, partitions), expected, `key ${JSON.stringify(key)}, ${partitions} partitions`);
        assert.equal(partitionForKeyBytes(Buffer.from(key), partitions), expected, `key ${JSON.stringify(key)} as bytes, ${partitions} partitions`);
        const inside = Buffer.from(`xy${key}z`);
        assert.equal(partitionForKeyBytes(inside, partitions, 2, inside.length - 1), expected, `key ${JSON.stringify(key)} as a span of bytes, ${partitions} partitions`);
      }
    }
  });

  it('gives Java murmur2 values (Kafka Utils.murmur2 test vectors)', () => {
    // From Kafka's own UtilsTest.testMurmur2.
    const cases: [string, number][] = [['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107]];
    for (const [key, value] of cases) assert.equal(murmur2(key), value, key);
  });
});
