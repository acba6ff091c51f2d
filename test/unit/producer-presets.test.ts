// Presets and the custom mapping turn CSV records into canonical events, and every bad row becomes
// a Rejection with its reason; times parse to UTC epoch ms; the key follows the chosen strategy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../services/core/env';
import { checkEvent, type EcommerceEvent } from '../../services/core/event';
import type { ColumnMapping } from '../../services/producer/config';
import { eventKey } from '../../services/producer/event-key';
import { compilePreset, detectPreset, onlineRetailColumns, rees46Columns, Rejection, type RejectReason } from '../../services/producer/presets';
import { compileTimeFormat } from '../../services/producer/time-format';

const rees46 = compilePreset(rees46Columns, { preset: 'auto', mapping: null, timeZone: 'Europe/London' });
const retail = compilePreset(onlineRetailColumns, { preset: 'auto', mapping: null, timeZone: 'Europe/London' });
const reesRow = (overrides: Partial<Record<string, string>> = {}): string[] => {
  const row: Record<string, string> = {
    event_time: '2019-10-01 00:00:04 UTC', event_type: 'cart', product_id: '1004856', category_id: '2053013555631882655',
    category_code: 'electronics.smartphone', brand: 'samsung', price: '130.76', user_id: '543272936', user_session: '8187d148-3c41-46d4-b0c0-9c08cd9dc564',
  };
  return rees46Columns.map((c) => overrides[c] ?? row[c]!);
};
const retailRow = (overrides: Partial<Record<string, string>> = {}): string[] => {
  const row: Record<string, string> = {
    InvoiceNo: '536365', StockCode: '85123A', Description: 'WHITE HANGING HEART T-LIGHT HOLDER', Quantity: '6',
    InvoiceDate: '12/1/2010 8:26', UnitPrice: '2.55', CustomerID: '17850.0', Country: 'United Kingdom',
  };
  return onlineRetailColumns.map((c) => overrides[c] ?? row[c]!);
};

function rejects(map: () => unknown, reason: RejectReason, message: RegExp): void {
  assert.throws(map, (error: unknown) => {
    assert.ok(error instanceof Rejection, `expected a Rejection, got ${String(error)}`);
    assert.equal(error.reason, reason);
    assert.match(error.message, message);
    return true;
  });
}

describe('preset detection', () => {
  it('recognises REES46 and Online Retail headers in any column order, and nothing else', () => {
    assert.equal(detectPreset([...rees46Columns].reverse()), 'rees46');
    assert.equal(detectPreset(onlineRetailColumns), 'online-retail');
    assert.equal(detectPreset(['ts', 'sku', 'amount']), undefined);
    assert.throws(() => compilePreset(['ts', 'sku'], { preset: 'auto', mapping: null, timeZone: 'UTC' }), (e: unknown) => e instanceof ConfigError && /matches no preset/.test(e.message));
    assert.throws(() => compilePreset(['event_time'], { preset: 'rees46', mapping: null, timeZone: 'UTC' }), /lacks column\(s\) event_type, product_id/);
  });
});

describe('REES46 preset', () => {
  it('maps a row to the canonical event', () => {
    const event = rees46.map(reesRow(), 'data.csv:2');
    assert.deepEqual(event, {
      schemaVersion: 1, eventId: 'data.csv:2', eventTime: Date.UTC(2019, 9, 1, 0, 0, 4), eventType: 'cart', productId: '1004856',
      categoryId: '2053013555631882655', categoryCode: 'electronics.smartphone', brand: 'samsung', price: 130.76, quantity: 1,
      userId: '543272936', sessionId: '8187d148-3c41-46d4-b0c0-9c08cd9dc564', country: null, source: 'rees46',
    } satisfies EcommerceEvent);
    assert.ok(checkEvent(event).ok);
  });

  it('turns empty optional fields into null', () => {
    const event = rees46.map(reesRow({ category_code: '', brand: ' ', user_session: '' }), 'x:3');
    assert.equal(event.categoryCode, null);
    assert.equal(event.brand, null);
    assert.equal(event.sessionId, null);
  });

  it('rejects every kind of bad row with a reason naming the problem', () => {
    rejects(() => rees46.map(reesRow({ price: 'abc' }), 'x:2'), 'bad_number', /price "abc" is not a number/);
    rejects(() => rees46.map(reesRow({ price: '-1.50' }), 'x:2'), 'negative_price', /price -1.5 is negative/);
    rejects(() => rees46.map(reesRow({ event_time: '2019-13-01 00:00:00 UTC' }), 'x:2'), 'bad_time', /event_time.*not a valid calendar date/);
    rejects(() => rees46.map(reesRow({ event_time: 'yesterday' }), 'x:2'), 'bad_time', /does not match "YYYY-MM-DD HH:mm:ss UTC"/);
    rejects(() => rees46.map(reesRow({ product_id: '' }), 'x:2'), 'missing_field', /missing required field product_id/);
    rejects(() => rees46.map(reesRow({ event_type: 'wishlist' }), 'x:2'), 'unknown_event_type', /event_type "wishlist" is not one of view, cart/);
    rejects(() => rees46.map(reesRow().slice(1), 'x:2'), 'column_count', /8 fields, the header has 9/);
    rejects(() => rees46.map([...reesRow(), 'extra'], 'x:2'), 'column_count', /10 fields/);
  });
});

describe('numbers, times and text out of range (issue 15)', () => {
  it('rejects a number that overflows a double as bad_number, in every numeric field, instead of sending null', () => {
    rejects(() => rees46.map(reesRow({ price: '1e400' }), 'x:2'), 'bad_number', /price "1e400" is out of range/);
    rejects(() => rees46.map(reesRow({ price: '9'.repeat(400) }), 'x:2'), 'bad_number', /price "9{80}"… \(400 characters\) is out of range/);
    rejects(() => retail.map(retailRow({ UnitPrice: '1e400' }), 'r:2'), 'bad_number', /UnitPrice "1e400" is out of range/);
    rejects(() => retail.map(retailRow({ Quantity: '1e400' }), 'r:2'), 'bad_number', /Quantity "1e400" is out of range/);
    const custom = compilePreset(['ts', 'sku', 'amount', 'n'], {
      preset: 'custom', timeZone: 'UTC', mapping: { columns: { eventTime: 'ts', productId: 'sku', price: 'amount', quantity: 'n' }, timeFormat: 'epoch_ms', eventType: 'purchase' },
    });
    rejects(() => custom.map(['1570000000000', 'p', '1', '-1e400'], 'c:2'), 'bad_number', /n "-1e400" is out of range/);
    rejects(() => custom.map(['9'.repeat(400), 'p', '1', '1'], 'c:2'), 'bad_time', /ts .* is not a time/);
    rejects(() => custom.map(['9000000000000000', 'p', '1', '1'], 'c:2'), 'bad_time', /after the year 9999/);
    assert.equal(custom.map(['1570000000000', 'p', '1e-400', '1'], 'c:2').price, 0);
  });

  it('rejects amounts the consumer cannot sum exactly in millionths', () => {
    rejects(() => rees46.map(reesRow({ price: '1e12' }), 'x:2'), 'bad_number', /price 1000000000000 is above 1000000000/);
    rejects(() => retail.map(retailRow({ UnitPrice: '1000000', Quantity: '80995' }), 'r:2'), 'bad_number', /UnitPrice 1000000 × Quantity 80995 = 80995000000 is above/);
    assert.equal(retail.map(retailRow({ UnitPrice: '2.08', Quantity: '80995' }), 'r:2').quantity, 80995);
  });

  it('rejects a text field longer than any id as field_too_long, naming the column, and quotes long values cut', () => {
    rejects(() => rees46.map(reesRow({ brand: 'b'.repeat(200_000) }), 'x:2'), 'field_too_long', /^brand has 200000 characters, more than 1000$/);
    rejects(() => retail.map(retailRow({ CustomerID: '1'.repeat(5000) }), 'r:2'), 'field_too_long', /CustomerID/);
    rejects(() => rees46.map(reesRow({ event_type: 'w'.repeat(300_000) }), 'x:2'), 'unknown_event_type', /event_type "w{80}"… \(300000 characters\)/);
    assert.ok(rees46.map(reesRow({ brand: 'b'.repeat(1000) }), 'x:2').brand);
  });

  it('the consumer checks the same limits', () => {
    const event = rees46.map(reesRow(), 'x:2');
    assert.deepEqual(checkEvent({ ...event, price: 2e9 }), { ok: false, reason: 'price 2000000000 × quantity 1 is above 1000000000' });
    assert.deepEqual(checkEvent({ ...event, brand: 'b'.repeat(1001) }), { ok: false, reason: 'brand is longer than 1000 characters' });
    assert.equal(checkEvent({ ...event, eventTime: 9_000_000_000_000_000 }).ok, false);
  });
});

describe('Online Retail preset', () => {
  it('maps a sale: quantity × unit price, invoice as session, the shop zone for the local time', () => {
    const event = retail.map(retailRow(), 'retail.csv:2');
    // December: London is on GMT, so local 08:26 is 08:26 UTC.
    assert.equal(event.eventTime, Date.UTC(2010, 11, 1, 8, 26));
    assert.equal(event.eventType, 'purchase');
    assert.equal(event.quantity, 6);
    assert.equal(event.price, 2.55);
    assert.equal(event.userId, '17850');
    assert.equal(event.sessionId, '536365');
    assert.equal(event.country, 'United Kingdom');
    assert.equal(event.source, 'online-retail');
    assert.ok(checkEvent(event).ok);
  });

  it('reads summer times in British Summer Time and honours a configured zone', () => {
    assert.equal(retail.map(retailRow({ InvoiceDate: '6/15/2011 13:05' }), 'r:2').eventTime, Date.UTC(2011, 5, 15, 12, 5));
    const utc = compilePreset(onlineRetailColumns, { preset: 'online-retail', mapping: null, timeZone: 'UTC' });
    assert.equal(utc.map(retailRow({ InvoiceDate: '6/15/2011 13:05' }), 'r:2').eventTime, Date.UTC(2011, 5, 15, 13, 5));
    assert.equal(retail.map(retailRow({ InvoiceDate: '2011-06-15 13:05:00' }), 'r:2').eventTime, Date.UTC(2011, 5, 15, 12, 5));
  });

  it('maps a C-invoice to a refund with a positive quantity; missing customer is null', () => {
    const event = retail.map(retailRow({ InvoiceNo: 'C536379', Quantity: '-24', CustomerID: '' }), 'r:2');
    assert.equal(event.eventType, 'refund');
    assert.equal(event.quantity, 24);
    assert.equal(event.userId, null);
  });

  it('rejects non-sales and bad values', () => {
    rejects(() => retail.map(retailRow({ Quantity: '-3' }), 'r:2'), 'bad_quantity', /negative but not a C… cancellation/);
    rejects(() => retail.map(retailRow({ Quantity: '0' }), 'r:2'), 'bad_quantity', /Quantity 0/);
    rejects(() => retail.map(retailRow({ Quantity: 'six' }), 'r:2'), 'bad_number', /Quantity "six"/);
    rejects(() => retail.map(retailRow({ UnitPrice: '-11062.06' }), 'r:2'), 'negative_price', /UnitPrice -11062.06 is negative/);
    rejects(() => retail.map(retailRow({ InvoiceDate: '13/45/2010 8:26' }), 'r:2'), 'bad_time', /InvoiceDate/);
    rejects(() => retail.map(retailRow({ StockCode: '' }), 'r:2'), 'missing_field', /StockCode/);
  });
});

describe('custom mapping', () => {
  const mapping: ColumnMapping = {
    columns: { eventTime: 'ts', eventType: 'action', productId: 'sku', price: 'amount', quantity: 'n', userId: 'customer', country: 'cc' },
    timeFormat: 'epoch_s',
    eventTypes: { buy: 'purchase', look: 'view' },
  };
  const header = ['ts', 'action', 'sku', 'amount', 'n', 'customer', 'cc'];
  const custom = compilePreset(header, { preset: 'auto', mapping, timeZone: 'UTC' });

  it('maps named columns, aliases event types and leaves unmapped fields null', () => {
    assert.equal(custom.name, 'custom');
    const event = custom.map(['1570000000', 'buy', 'A-1', '9.99', '2', 'u1', 'DE'], 'c.csv:2');
    assert.deepEqual(
      { ...event },
      { schemaVersion: 1, eventId: 'c.csv:2', eventTime: 1_570_000_000_000, eventType: 'purchase', productId: 'A-1', categoryId: null, categoryCode: null, brand: null, price: 9.99, quantity: 2, userId: 'u1', sessionId: null, country: 'DE', source: 'custom' },
    );
  });

  it('uses a constant event type when no column is mapped', () => {
    const constant = compilePreset(['when', 'item', 'cost'], {
      preset: 'custom', timeZone: 'UTC',
      mapping: { columns: { eventTime: 'when', productId: 'item', price: 'cost' }, timeFormat: 'YYYY-MM-DDTHH:mm:ssZ', eventType: 'view' },
    });
    const event = constant.map(['2020-02-29T23:59:59Z', 'p', '0'], 'c:2');
    assert.equal(event.eventType, 'view');
    assert.equal(event.eventTime, Date.UTC(2020, 1, 29, 23, 59, 59));
  });

  it('rejects with the mapped column names', () => {
    rejects(() => custom.map(['1570000000', 'steal', 'A-1', '9.99', '2', 'u1', 'DE'], 'c:2'), 'unknown_event_type', /action "steal"/);
    rejects(() => custom.map(['1570000000', 'buy', 'A-1', '9.99', '0', 'u1', 'DE'], 'c:2'), 'bad_quantity', /n 0 is not a positive number/);
    rejects(() => custom.map(['-5', 'buy', 'A-1', '9.99', '1', 'u1', 'DE'], 'c:2'), 'bad_time', /ts/);
    assert.throws(() => compilePreset(['ts'], { preset: 'custom', mapping, timeZone: 'UTC' }), /lacks column\(s\) action, sku/);
  });
});

describe('time parsing', () => {
  it('reads the REES46 UTC suffix as UTC whatever zone is configured', () => {
    const parse = compileTimeFormat('YYYY-MM-DD HH:mm:ss UTC', 'America/New_York');
    assert.equal(parse('2019-11-03 01:30:00 UTC'), Date.UTC(2019, 10, 3, 1, 30));
    assert.match(String(parse('2019-11-03 01:30:00')), /does not match/);
    assert.match(String(parse('2019-02-29 00:00:00 UTC')), /not a valid calendar date/);
  });

  it('converts zone-less local times across daylight-saving changes', () => {
    const parse = compileTimeFormat('M/D/YYYY H:mm', 'Europe/London');
    assert.equal(parse('3/27/2011 0:30'), Date.UTC(2011, 2, 27, 0, 30)); // GMT, before the change
    assert.equal(parse('3/27/2011 3:30'), Date.UTC(2011, 2, 27, 2, 30)); // BST, after it
    assert.equal(parse('10/30/2011 3:00'), Date.UTC(2011, 9, 30, 3, 0)); // GMT again
    const ny = compileTimeFormat('YYYY-MM-DD HH:mm', 'America/New_York');
    assert.equal(ny('2020-07-04 12:00'), Date.UTC(2020, 6, 4, 16, 0));
  });

  it('reads fixed-width patterns at fixed places exactly as the regular expression does, errors included', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const digits = (n: number): string => Array.from({ length: n }, () => String(random(10))).join('');
    const pad = (n: number, width: number): string => String(n).padStart(width, '0');
    const noise = ['', ' ', 'x', '-', '1', ' UTC', '\t'];
    const samples = (withZone: boolean, millis: boolean): string[] =>
      Array.from({ length: 4000 }, () => {
        // Mostly plausible times, some with impossible fields, some bent out of shape.
        const year = random(4) === 0 ? digits(4) : pad(1960 + random(80), 4);
        const parts = [year, pad(random(14), 2), pad(random(33), 2), pad(random(26), 2), pad(random(62), 2), pad(random(62), 2)];
        let text = `${parts[0]}-${parts[1]}-${parts[2]} ${parts[3]}:${parts[4]}:${parts[5]}${millis ? `.${digits(3)}` : ''}${withZone ? ' UTC' : ''}`;
        const bend = random(6);
        if (bend === 0) text = text.slice(0, random(text.length)) + noise[random(noise.length)]! + text.slice(random(text.length));
        if (bend === 1) text = text.replace(/\d/, 'x');
        if (bend === 2) text = ` ${text}`;
        return text;
      });
    for (const [format, zone] of [['YYYY-MM-DD HH:mm:ss UTC', 'UTC'], ['YYYY-MM-DD HH:mm:ss', 'Europe/Berlin'], ['YYYY-MM-DD HH:mm:ss.SSS', 'America/New_York']] as const) {
      const fast = compileTimeFormat(format, zone);
      const reference = compileTimeFormat(format, zone, { fixedWidth: false });
      const texts = samples(format.endsWith('UTC'), format.endsWith('SSS'));
      const valid = texts.filter((t) => typeof reference(t) === 'number').length;
      assert.ok(valid > 1000 && valid < texts.length - 500, `${format}: a mix of valid (${valid}) and invalid times`);
      for (const text of texts) assert.equal(fast(text), reference(text), `${format} ${JSON.stringify(text)}`);
    }
  });

  it('parses ISO only with a zone, and epochs', () => {
    const iso = compileTimeFormat('iso');
    assert.equal(iso('2019-10-01T02:00:00+02:00'), Date.UTC(2019, 9, 1));
    assert.match(String(iso('2019-10-01T02:00:00')), /with a zone/);
    assert.equal(compileTimeFormat('epoch_ms')('1570000000123'), 1_570_000_000_123);
    assert.match(String(compileTimeFormat('epoch_ms')('12e')), /not a non-negative epoch/);
    assert.throws(() => compileTimeFormat('HH:mm'), /has no year/);
    assert.throws(() => compileTimeFormat('iso', 'Nowhere/Land'), /not an IANA time zone/);
  });
});

describe('message key', () => {
  const event = rees46.map(reesRow(), 'k:2');
  it('keys by session by default, falling back to user, then product', () => {
    assert.equal(eventKey(event, 'session'), '8187d148-3c41-46d4-b0c0-9c08cd9dc564');
    assert.equal(eventKey({ ...event, sessionId: null }, 'session'), '543272936');
    assert.equal(eventKey({ ...event, sessionId: null, userId: null }, 'session'), '1004856');
  });
  it('keys by user, product, or not at all', () => {
    assert.equal(eventKey(event, 'user'), '543272936');
    assert.equal(eventKey({ ...event, userId: null }, 'user'), '8187d148-3c41-46d4-b0c0-9c08cd9dc564');
    assert.equal(eventKey(event, 'product'), '1004856');
    assert.equal(eventKey(event, 'none'), null);
  });
});
