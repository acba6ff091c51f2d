// `npm run bench` and `bench:producer` report the producer against kcat -P as the median of
// several paired rounds (bench/setup.ts): the round they print must be the median one, whole.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { medianRound, type PairedRound } from '../../bench/setup';

const round = (ours: number, anchor: number): PairedRound => ({
  ours: { records: 1000, seconds: 1000 / ours, recordsPerSecond: ours, megabytesPerSecond: 0 },
  anchor: { records: 1000, seconds: 1000 / anchor, recordsPerSecond: anchor, megabytesPerSecond: 0 },
});

describe('medianRound', () => {
  it('gives the round with the median ratio, not the median of each side taken apart', () => {
    // Ratios 0.5, 0.4, 0.6: the median round is the first, although 90 is not the median of ours.
    const median = medianRound([round(90, 180), round(80, 200), round(120, 200)]);
    assert.equal(median.ratio, 0.5);
    assert.equal(median.ours.recordsPerSecond, 90);
    assert.equal(median.anchor.recordsPerSecond, 180);
  });

  it('takes the lower middle of an even count, the only round of one, and refuses none', () => {
    assert.equal(medianRound([round(60, 100), round(40, 100), round(50, 100), round(70, 100)]).ratio, 0.5);
    assert.equal(medianRound([round(30, 100)]).ratio, 0.3);
    assert.throws(() => medianRound([]), /at least one round/);
  });
});
