// The benchmarks stop unless our committed windows equal the SQL oracle's (bench/setup.ts): a fast
// wrong processor is no result. Windows only our end of input closed are allowed extra.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { oracleDifferences } from '../../bench/setup';

const oracleWindow = (events: number): Record<string, unknown> => ({
  windowKind: 'tumbling', key: 'overall', windowStartMs: 0, windowEndMs: 60_000, events, eventsByType: { view: events }, purchases: 0, revenue: 0,
  averagePurchasePrice: null, distinctUsers: 1, distinctSessions: 1, viewToPurchaseConversion: 0, topProducts: [], lateRecords: 0,
});
const ours = (events: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ schemaVersion: 1, windowStart: '1970-01-01T00:00:00.000Z', ...oracleWindow(events), ...extra });

describe('oracleDifferences', () => {
  const oracle = new Map([['tumbling|overall|0', oracleWindow(3)]]);

  it('is empty when every oracle window is ours with the same fields, whatever else ours carries', () => {
    assert.deepEqual(oracleDifferences(new Map([['tumbling|overall|0', ours(3)], ['tumbling|overall|60000', ours(1, { endOfInput: true })]]), oracle), []);
  });

  it('names a field that differs, a window missing from ours, and one only ours has without an end of input', () => {
    assert.match(oracleDifferences(new Map([['tumbling|overall|0', ours(2)]]), oracle)[0]!, /^tumbling\|overall\|0: events ours 2, oracle 3/);
    assert.deepEqual(oracleDifferences(new Map(), oracle), ['tumbling|overall|0: missing from ours']);
    const tie = new Map([['tumbling|overall|0', { ...oracleWindow(3), averagePurchasePrice: 58.014062 }]]);
    assert.deepEqual(oracleDifferences(new Map([['tumbling|overall|0', ours(3, { averagePurchasePrice: 58.014063 })]]), tie), [], 'a rounding tie: one micro apart');
    assert.equal(oracleDifferences(new Map([['tumbling|overall|0', ours(3, { averagePurchasePrice: 58.014064 })]]), tie).length, 1, 'two micros apart is a difference');
    assert.deepEqual(oracleDifferences(new Map([['tumbling|overall|0', ours(3)], ['sliding|overall|0', ours(1)]]), oracle), ['sliding|overall|0: only in ours']);
  });
});
