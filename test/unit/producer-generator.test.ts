// The synthetic generator: deterministic per seed, REES46-shaped, realistic funnel, bounded
// disorder, and malformed rows the producer rejects with exactly the reason they were made with.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { parseGenerateArgs } from '../../services/producer/generate-cli';
import { generateRows, generatedHeader, malformedKinds, writeGeneratedCsv } from '../../services/producer/generator';
import { compilePreset, Rejection, rees46Columns } from '../../services/producer/presets';

const preset = compilePreset(rees46Columns, { preset: 'rees46', mapping: null, timeZone: 'UTC' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-generator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('synthetic generator', () => {
  it('writes byte-identical files for the same seed, different ones for another seed', async () => {
    const options = { rows: 5000, seed: 42, malformedRate: 0.02, outOfOrderMs: 3000, lateRate: 0.01 };
    await writeGeneratedCsv(path.join(dir, 'a.csv'), options);
    await writeGeneratedCsv(path.join(dir, 'b.csv'), options);
    await writeGeneratedCsv(path.join(dir, 'c.csv'), { ...options, seed: 43 });
    const a = readFileSync(path.join(dir, 'a.csv'));
    assert.ok(a.equals(readFileSync(path.join(dir, 'b.csv'))));
    assert.ok(!a.equals(readFileSync(path.join(dir, 'c.csv'))));
    const lines = a.toString().trimEnd().split('\n');
    assert.equal(lines[0], generatedHeader);
    assert.equal(lines.length, 5001);
  });

  it('gzips deterministically when asked', async () => {
    const summary = await writeGeneratedCsv(path.join(dir, 'a.csv.gz'), { rows: 5000, seed: 42, malformedRate: 0.02, outOfOrderMs: 3000, lateRate: 0.01, gzip: true });
    const plain = readFileSync(path.join(dir, 'a.csv'));
    const packed = readFileSync(path.join(dir, 'a.csv.gz'));
    assert.equal(summary.bytes, packed.length);
    assert.ok(gunzipSync(packed).equals(plain));
  });

  it('yields good rows the REES46 preset accepts, with a view → cart → purchase funnel', () => {
    const counts: Record<string, number> = {};
    const sessions = new Set<string>();
    for (const row of generateRows({ rows: 20_000, seed: 3 })) {
      assert.equal(row.malformed, null);
      const event = preset.map(row.text.split(','), `g:${row.line}`);
      counts[event.eventType] = (counts[event.eventType] ?? 0) + 1;
      sessions.add(event.sessionId!);
    }
    const share = (type: string) => (counts[type] ?? 0) / 20_000;
    assert.ok(share('view') > 0.8, `views ${share('view')}`);
    assert.ok(share('cart') > share('purchase') && share('purchase') > 0.01, `cart ${share('cart')} purchase ${share('purchase')}`);
    assert.ok(share('remove_from_cart') > 0);
    assert.ok(sessions.size > 1000 && sessions.size < 10_000, `${sessions.size} sessions`);
  });

  it('makes malformed rows of every kind, each rejected with its own reason', () => {
    const seen = new Set<string>();
    let malformed = 0;
    for (const row of generateRows({ rows: 4000, seed: 9, malformedRate: 0.1 })) {
      if (!row.malformed) continue;
      malformed++;
      seen.add(row.malformed);
      assert.throws(() => preset.map(row.text.split(','), `g:${row.line}`), (e: unknown) => e instanceof Rejection && e.reason === row.malformed, row.text);
    }
    assert.ok(malformed > 300 && malformed < 500, `${malformed} malformed`);
    assert.deepEqual([...seen].sort(), [...malformedKinds].sort());
  });

  it('keeps disorder within the bound, except for late rows', () => {
    const bound = 2000;
    let maxTime = 0;
    let late = 0;
    for (const row of generateRows({ rows: 20_000, seed: 5, outOfOrderMs: bound, lateRate: 0.01, eventsPerSecond: 10 })) {
      const time = preset.map(row.text.split(','), 'g').eventTime;
      // Timestamps have second resolution, so allow one second on top of the bound.
      if (row.late) {
        late++;
        assert.ok(time < maxTime - 3_600_000 + bound + 1000, 'a late row lags by at least an hour');
      } else {
        assert.ok(time >= maxTime - bound - 1000, `row ${row.line} is ${maxTime - time} ms behind`);
      }
      if (!row.late) maxTime = Math.max(maxTime, time);
    }
    assert.ok(late > 100 && late < 300, `${late} late`);
  });

  it('parses its command line and names every bad option', () => {
    assert.deepEqual(
      { ...parseGenerateArgs(['--rows', '10', '--out', 'x.csv', '--seed', '4', '--gzip', '--late-rate', '0.5']) },
      { rows: 10, out: 'x.csv', gzip: true, seed: 4, outOfOrderMs: undefined, lateRate: 0.5, malformedRate: undefined, eventsPerSecond: undefined, startTime: undefined },
    );
    assert.throws(() => parseGenerateArgs(['--rows', '-1', '--malformed-rate', '2', '--bogus']), (e: unknown) => {
      const message = (e as Error).message;
      for (const expected of ['--rows "-1"', '--malformed-rate "2"', 'option --bogus', '--out is required']) assert.ok(message.includes(expected), `${expected} in ${message}`);
      return true;
    });
  });

  it('refuses numbers that overflow a double or times no date can hold (issue 15)', () => {
    assert.throws(() => parseGenerateArgs(['--rows', '10', '--out', 'x.csv', '--out-of-order-ms', '1e400', '--events-per-second', 'Infinity', '--start', '+275760-09-13T00:00:00Z']), (e: unknown) => {
      const message = (e as Error).message;
      for (const expected of ['--out-of-order-ms "1e400" is not', '--events-per-second "Infinity" is not', '--start "+275760-09-13T00:00:00Z" is not']) assert.ok(message.includes(expected), `${expected} in ${message}`);
      return true;
    });
  });
});
