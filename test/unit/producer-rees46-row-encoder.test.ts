// The REES46 row encoder must give, for every row it takes, exactly the bytes and key the general
// path gives (the rees46 mapper, JSON.stringify, eventKey), and decline every row the general path
// rejects or writes differently.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventKey } from '../../services/producer/event-key';
import { generatedHeader, generateRows } from '../../services/producer/generator';
import { compilePreset, Rejection, rees46Columns } from '../../services/producer/presets';
import { Rees46RowEncoder } from '../../services/producer/rees46-row-encoder';
import type { KeyStrategy } from '../../services/producer/config';

const settings = { preset: 'rees46' as const, timeZone: 'UTC', mapping: null };

const mappers = new Map<string, ReturnType<typeof compilePreset>>();
const compiled = (header: string[]): ReturnType<typeof compilePreset> => {
  let preset = mappers.get(header.join(','));
  if (!preset) mappers.set(header.join(','), (preset = compilePreset(header, settings)));
  return preset;
};

/** What the general path makes of a row: the key and value it sends, or undefined for a rejection. */
function generalPath(header: string[], row: string, eventId: string, key: KeyStrategy): { key: string | null; value: string } | undefined {
  const { map } = compiled(header);
  try {
    const event = map(row.split(','), eventId);
    return { key: eventKey(event, key), value: JSON.stringify(event) };
  } catch (error) {
    if (error instanceof Rejection) return undefined;
    throw error;
  }
}

/** What the encoder makes of a row (placed inside a larger buffer, as in a file), or undefined when it declines. */
function encoded(encoder: Rees46RowEncoder, row: string, line: number): { key: string | null; value: string } | undefined {
  const text = Buffer.from(`x\n${row}\ny`);
  if (!encoder.encode(text, 2, text.length - 2, line)) return undefined;
  const key = encoder.keyLength < 0 ? null : encoder.keyBytes.toString('utf8', encoder.keyStart, encoder.keyStart + encoder.keyLength);
  const out = Buffer.alloc(encoder.valueLength + 10, '#');
  assert.equal(encoder.writeValue(out, 5), 5 + encoder.valueLength);
  assert.equal(out.toString('latin1', encoder.valueLength + 5), '#####', 'nothing written past the value');
  return { key, value: out.toString('utf8', 5, 5 + encoder.valueLength) };
}

const good = ['2019-10-01 00:00:00 UTC', 'view', '44600062', '2103807459595387724', 'electronics.smartphone', 'shiseido', '35.79', '541312140', '72d76fde-8bb3-4e00-8c23-a032dfed738c'];
const withField = (index: number, value: string): string => good.map((v, i) => (i === index ? value : v)).join(',');
const at = (name: string): number => rees46Columns.indexOf(name);

describe('Rees46RowEncoder', () => {
  it('writes what the general path writes for generated rows, and declines every row it rejects', () => {
    const header = generatedHeader.split(',');
    for (const key of ['session', 'user', 'product', 'none'] as const) {
      const encoder = new Rees46RowEncoder(header, 'events.csv', key);
      let taken = 0;
      let rows = 0;
      for (const row of generateRows({ rows: 20_000, seed: 3, outOfOrderMs: 5_000, lateRate: 0.01, malformedRate: 0.02 })) {
        if (row.text.includes('"')) continue; // quoted rows come from csv-parse, never to the encoder
        rows++;
        const expected = generalPath(header, row.text, `events.csv:${row.line}`, key);
        const ours = encoded(encoder, row.text, row.line);
        if (ours) taken++;
        if (expected === undefined) assert.equal(ours, undefined, `line ${row.line} is rejected by the general path: ${row.text}`);
        else if (ours) assert.deepEqual(ours, expected, `line ${row.line}: ${row.text}`);
      }
      assert.ok(taken > rows * 0.95, `took ${taken} of ${rows} rows (key ${key})`);
    }
  });

  it('agrees with the general path on edge cases: prices, times, text, keys, columns', () => {
    const rows = [
      ...['0', '0.0', '00.50', '007', '1.', '1.000', '0.5', '123456789.5', '999999999.99', '1000000000', '1234567890', '0.000001', '0.0000001', '0.00001234',
        '1.23456789012345', '1.234567890123456', '123456789.123456', '12345678.1234567', '1e3', '1E-2', '-1', '+1', '-0', '.5', '5..0', '0x10', '', ' 1', '1 ', '١'].map((p) => withField(at('price'), p)),
      ...['2019-10-01 23:59:59 UTC', '2020-02-29 12:00:00 UTC', '2019-02-29 12:00:00 UTC', '2019-04-31 00:00:00 UTC', '2019-10-01 24:00:00 UTC', '2019-10-01 00:60:00 UTC',
        '2019-10-01 00:00:60 UTC', '1969-12-31 23:59:59 UTC', '1970-01-01 00:00:00 UTC', '9999-12-31 23:59:59 UTC', '0000-01-01 00:00:00 UTC', '2019-10-01 00:00:00 utc',
        '2019-10-01T00:00:00 UTC', '2019-1-01 00:00:00 UTC', '2019-10-01 00:00:00', ' 2019-10-01 00:00:00 UTC', '2019-10-00 00:00:00 UTC', '2019-13-01 00:00:00 UTC', '2019-10-01 0a:00:00 UTC'].map((t) => withField(at('event_time'), t)),
      ...['view', 'cart', 'remove_from_cart', 'purchase', 'refund', 'View', 'views', '', ' view', 'vie'].map((t) => withField(at('event_type'), t)),
      ...['brand', 'category_code', 'user_id', 'user_session', 'category_id', 'product_id'].flatMap((name) =>
        ['', ' ', 'a b', ' a', 'a ', 'café', 'a\\b', 'a\tb', 'a/b', '\u007f', 'x'.repeat(1000), 'x'.repeat(1001), '{}[]:'].map((v) => withField(at(name), v))),
      withField(at('user_session'), '') , [good[0], good[1], good[2], '', '', '', good[6], '', ''].join(','),
      [...good, 'extra'].join(','), good.slice(0, 8).join(','), good.join(',') + ',', '', ',,,,,,,,',
    ];
    const names = ['events.csv', 'we"ird\\name.csv', 'café.csv', 'new\nline.csv'];
    for (const fileName of names) {
      for (const key of ['session', 'user', 'product', 'none'] as const) {
        const encoder = new Rees46RowEncoder(rees46Columns, fileName, key);
        for (const [n, row] of rows.entries()) {
          const expected = generalPath(rees46Columns, row, `${fileName}:${n + 2}`, key);
          const ours = encoded(encoder, row, n + 2);
          if (expected === undefined) assert.equal(ours, undefined, `rejected by the general path: ${JSON.stringify(row)}`);
          else if (ours) assert.deepEqual(ours, expected, `${fileName}, key ${key}: ${JSON.stringify(row)}`);
        }
        // The ordinary row is taken, or the test compares nothing; line numbers of every size.
        for (const line of [2, 9, 10, 99_999, 2 ** 31 - 1, 2 ** 31, 4_294_967_301, 1e12 + 7]) {
          assert.deepEqual(encoded(encoder, good.join(','), line), generalPath(rees46Columns, good.join(','), `${fileName}:${line}`, key), `line ${line}`);
        }
      }
    }
  });

  it('writes every plain price as JSON.stringify writes the number', () => {
    const encoder = new Rees46RowEncoder(rees46Columns, 'events.csv', 'session');
    let seed = 11;
    const random = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    let taken = 0;
    for (let n = 0; n < 20_000; n++) {
      const digits = (count: number): string => Array.from({ length: count }, () => (random(3) === 0 ? '0' : String(random(10)))).join('');
      const price = random(4) === 0 ? digits(1 + random(12)) : `${digits(1 + random(10))}.${digits(random(10))}`;
      const row = withField(at('price'), price);
      const expected = generalPath(rees46Columns, row, 'events.csv:2', 'session');
      const ours = encoded(encoder, row, 2);
      if (ours) taken++;
      if (expected === undefined) assert.equal(ours, undefined, `price ${price} is rejected by the general path`);
      else if (ours) assert.deepEqual(ours, expected, `price ${price}`);
    }
    assert.ok(taken > 15_000, `took ${taken} prices of 20000`);
  });

  it('reads the columns in the header\'s order, with extra columns and columns named twice', () => {
    const header = [...rees46Columns].reverse().concat('note');
    const row = [...good].reverse().concat('hello').join(',');
    const encoder = new Rees46RowEncoder(header, 'events.csv', 'session');
    const ours = encoded(encoder, row, 7);
    assert.ok(ours);
    assert.deepEqual(ours, generalPath(header, row, 'events.csv:7', 'session'));
    // A column named twice: both paths read the last one.
    const twice = [...rees46Columns, 'price', 'user_session'];
    const twiceRow = [...good, '12.5', 'other-session'].join(',');
    const twiceOurs = encoded(new Rees46RowEncoder(twice, 'events.csv', 'session'), twiceRow, 3);
    assert.ok(twiceOurs);
    assert.match(twiceOurs.value, /"price":12.5,/);
    assert.deepEqual(twiceOurs, generalPath(twice, twiceRow, 'events.csv:3', 'session'));
  });
});
