// services/core/kafkajs-crc32c-speedup.ts must give kafkajs' own CRC-32C for every input, and be what
// kafkajs' record batch encoder uses once the fixes are installed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../services/core/kafkajs-fixes';
import { crc32c } from '../../services/core/kafkajs-crc32c-speedup';

const load = createRequire(require.resolve('kafkajs'));
/** kafkajs' own byte-at-a-time function (its inner module, which the speed-up does not replace). */
const kafkajsCrc32c = load('./src/protocol/recordBatch/crc32C/crc32C') as (buffer: Buffer) => number;

describe('CRC-32C speed-up', () => {
  it('gives the standard check value and kafkajs\' result for every length and content', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    for (let length = 0; length < 200; length++) {
      const bytes = randomBytes(length);
      assert.equal(crc32c(bytes), kafkajsCrc32c(bytes) >>> 0, `length ${length}`);
    }
    for (const bytes of [randomBytes(1 << 20), Buffer.alloc(4099, 0xff), Buffer.alloc(1000, 0)]) {
      assert.equal(crc32c(bytes), kafkajsCrc32c(bytes) >>> 0);
      assert.equal(crc32c(bytes.subarray(3, bytes.length - 5)), kafkajsCrc32c(bytes.subarray(3, bytes.length - 5)) >>> 0, 'an unaligned view');
    }
  });

  it('is the checksum kafkajs\' record batch encoder uses', () => {
    assert.equal(load('./src/protocol/recordBatch/crc32C'), crc32c);
  });
});
