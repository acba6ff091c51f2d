// services/core/kafkajs-decoder-speedup.ts must decode every record exactly as kafkajs' own record
// decoder does (a fresh, unpatched copy of it is the reference), fall back to it where numbers are
// not exact, and be what kafkajs' record batch decoder uses once the fixes are installed.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import '../../services/core/kafkajs-fixes';
import { decodeRecord, kafkajsFallbacks, type RecordContext, type RecordDecoder, type RecordReader } from '../../services/core/kafkajs-decoder-speedup';
import { freshKafkajsModule } from '../support/fresh-kafkajs-module';

const load = createRequire(require.resolve('kafkajs'));
const kafkajsDecoder = freshKafkajsModule<RecordDecoder>('./src/protocol/recordBatch/record/v0/decoder');
const encodeRecord = load('./src/protocol/recordBatch/record/v0') as (record: { offsetDelta: number; timestampDelta: unknown; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }) => { buffer: Buffer };
const Decoder = load('./src/protocol/decoder') as new (buffer: Buffer) => RecordReader;
const Long = load('./src/utils/long') as { fromValue: (v: unknown) => unknown };
const { LOG_APPEND_TIME, CREATE_TIME } = load('./src/protocol/timestampTypes') as { LOG_APPEND_TIME: number; CREATE_TIME: number };

/** The record's body as the batch decoder hands it over (past its length), decoded by `decode`, with where the decoder stopped. */
function decodeWith(decode: RecordDecoder, bytes: Buffer, context: RecordContext): { record: unknown; end: number; length: number } {
  const body = new Decoder(bytes).readVarIntBytes()!;
  const decoder = new Decoder(body);
  const record = decode(decoder, context);
  return { record, end: decoder.offset, length: body.length };
}

const context = (firstOffset: string, firstTimestamp: string, extra: Partial<RecordContext> = {}): RecordContext => ({
  firstOffset, firstTimestamp, maxTimestamp: '1700000009999', timestampType: CREATE_TIME, magicByte: 2, ...extra,
});

describe('kafkajs record decoder speed-up', () => {
  it('decodes every record as kafkajs does: offsets, timestamps (both signs, every varlong width), keys, values and headers', () => {
    const deltas = [0, 1, -1, 63, -64, 64, 8191, -8193, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 45), 2 ** 48 - 1, -(2 ** 48), 2 ** 50, -(2 ** 52), Long.fromValue('9223372036854775807'), Long.fromValue('-9223372036854775808')];
    const bases: [string, string][] = [['0', '1700000000000'], ['41', '-1'], ['9007199254740990', '1700000000000'], ['9223372036854775000', '9007199254740991'], ['123', '0']];
    const payloads: { key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }[] = [
      { key: null, value: null },
      { key: Buffer.from('session-1'), value: Buffer.from('{"a":1}') },
      { key: Buffer.alloc(0), value: Buffer.alloc(300, 7), headers: { 'end-of-input': Buffer.from('1') } },
      { key: null, value: Buffer.from('x'), headers: { a: [Buffer.from('1'), Buffer.from('2')], b: Buffer.from('3'), ['__proto__']: Buffer.from('p') } },
    ];
    let compared = 0;
    for (const [firstOffset, firstTimestamp] of bases) {
      for (const timestampDelta of deltas) {
        for (const offsetDelta of [0, 5, 300, 2 ** 20]) {
          for (const payload of payloads) {
            const bytes = encodeRecord({ offsetDelta, timestampDelta, ...payload }).buffer;
            for (const ctx of [context(firstOffset, firstTimestamp), context(firstOffset, firstTimestamp, { timestampType: LOG_APPEND_TIME, isControlBatch: true })]) {
              const ours = decodeWith(decodeRecord, bytes, ctx);
              const theirs = decodeWith(kafkajsDecoder, bytes, ctx);
              assert.deepStrictEqual(ours.record, theirs.record, `offset ${firstOffset}+${offsetDelta}, timestamp ${firstTimestamp}+${String(timestampDelta)}`);
              assert.equal(ours.end, ours.length, 'the whole record is read');
              compared++;
            }
          }
        }
      }
    }
    assert.equal(compared, 5 * 18 * 4 * 4 * 2);
  });

  it('reads a record of this century with numbers, and only a wider one with kafkajs\' own code', () => {
    const before = kafkajsFallbacks();
    decodeWith(decodeRecord, encodeRecord({ offsetDelta: 7, timestampDelta: 1234, key: null, value: Buffer.from('v') }).buffer, context('1000000', '1765000000000'));
    assert.equal(kafkajsFallbacks(), before);
    decodeWith(decodeRecord, encodeRecord({ offsetDelta: 7, timestampDelta: 2 ** 50, key: null, value: Buffer.from('v') }).buffer, context('1000000', '1765000000000'));
    decodeWith(decodeRecord, encodeRecord({ offsetDelta: 7, timestampDelta: 0, key: null, value: Buffer.from('v') }).buffer, context('9007199254740991', '1765000000000'));
    assert.equal(kafkajsFallbacks(), before + 2);
  });

  it('is what kafkajs\' record batch decoder uses', () => {
    assert.equal(load('./src/protocol/recordBatch/record/v0/decoder'), decodeRecord);
    assert.notEqual(kafkajsDecoder, decodeRecord);
  });
});
