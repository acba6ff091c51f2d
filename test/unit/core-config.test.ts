// The services' shared core: env validation, client TLS checks and the canonical event schema.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import forge from 'node-forge';
import { ConfigError, EnvReader } from '../../services/core/env';
import { checkEvent, parseEventMessage } from '../../services/core/event';
import { loadTls, pinoLogCreator, readKafkaClientConfig } from '../../services/core/kafka-client';
import { logLevel } from 'kafkajs';
import pino from 'pino';

function selfSigned(cn: string, notBefore: Date, notAfter: Date): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: cn }]);
  cert.setIssuer([{ name: 'commonName', value: cn }]);
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key };
}

describe('EnvReader', () => {
  it('reports every bad variable at once, each by name', () => {
    const env = new EnvReader({ A: 'x', B: '-3', C: 'maybe', D: 'fast' });
    env.int('A', 1);
    env.int('B', 1, { min: 0 });
    env.boolean('C', false);
    env.oneOf('D', ['slow', 'steady'] as const);
    env.string('MISSING');
    assert.throws(() => env.done(), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 5);
      for (const name of ['A=', 'B=', 'C=', 'D=', 'MISSING']) assert.ok(error.message.includes(name), `${name} not named`);
      return true;
    });
  });

  it('applies defaults and parses good values', () => {
    const env = new EnvReader({ N: ' 42 ', L: 'a, b,,c', T: 'yes' });
    assert.equal(env.int('N', 1), 42);
    assert.deepEqual(env.list('L'), ['a', 'b', 'c']);
    assert.equal(env.boolean('T', false), true);
    assert.equal(env.int('UNSET', 7), 7);
    env.done();
  });

  it('kafka client config: brokers must be host:port, TLS files required for SSL', () => {
    const env = new EnvReader({ KAFKA_BROKERS: 'kafka-1:9092,bad' });
    readKafkaClientConfig(env, 'producer');
    assert.throws(() => env.done(), /"bad" is not host:port[\s\S]*KAFKA_SSL_CA_LOCATION is required/);
  });
});

describe('client TLS material', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'core-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const now = new Date();
  const day = 86_400_000;
  const good = selfSigned('producer', new Date(now.getTime() - day), new Date(now.getTime() + day));
  const other = selfSigned('other', new Date(now.getTime() - day), new Date(now.getTime() + day));
  const expired = selfSigned('producer', new Date(now.getTime() - 3 * day), new Date(now.getTime() - day));

  it('accepts a matching, valid certificate and reports its principal', () => {
    const tls = loadTls({ caLocation: write('ca.pem', good.cert), certificateLocation: write('c.pem', good.cert), keyLocation: write('k.pem', good.key) });
    assert.equal(tls.principal, 'producer');
  });

  it('rejects an expired certificate, naming the file and date', () => {
    assert.throws(
      () => loadTls({ caLocation: write('ca.pem', good.cert), certificateLocation: write('e.pem', expired.cert), keyLocation: write('ek.pem', expired.key) }),
      /e\.pem expired on \d{4}-/,
    );
  });

  it('rejects a key that is not the certificate\'s', () => {
    assert.throws(
      () => loadTls({ caLocation: write('ca.pem', good.cert), certificateLocation: write('c.pem', good.cert), keyLocation: write('ok.pem', other.key) }),
      /ok\.pem is not the private key of/,
    );
  });

  it('rejects unreadable and non-PEM files', () => {
    assert.throws(() => loadTls({ caLocation: path.join(dir, 'nope.pem'), certificateLocation: 'x', keyLocation: 'y' }), /KAFKA_SSL_CA_LOCATION .*nope\.pem cannot be read/);
    assert.throws(
      () => loadTls({ caLocation: write('junk.pem', 'hello'), certificateLocation: write('c.pem', good.cert), keyLocation: write('k.pem', good.key) }),
      /junk\.pem is not a PEM certificate/,
    );
  });
});

describe('canonical event', () => {
  const event = {
    schemaVersion: 1, eventId: 'f.csv:2', eventTime: 1_570_000_000_000, eventType: 'purchase', productId: '44600062',
    categoryId: '2103807459595387724', categoryCode: 'appliances.kitchen', brand: 'shiseido', price: 35.79, quantity: 1,
    userId: '541312140', sessionId: '72d76fde', country: null, source: 'rees46',
  };

  it('accepts a valid event', () => {
    assert.deepEqual(checkEvent(event), { ok: true, event });
  });

  it('names what is wrong with an invalid one', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...event, eventTime: 'yesterday' }, /eventTime/],
      [{ ...event, eventType: 'click' }, /eventType "click"/],
      [{ ...event, price: -1 }, /price -1/],
      [{ ...event, quantity: 0 }, /quantity 0/],
      [{ ...event, schemaVersion: 2 }, /schemaVersion 2/],
      [{ ...event, brand: 7 }, /brand/],
      [[1, 2], /not a JSON object/],
    ];
    for (const [value, reason] of cases) {
      const result = checkEvent(value);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    }
    const notJson = parseEventMessage(Buffer.from('{oops'));
    assert.ok(!notJson.ok && notJson.reason.startsWith('not JSON'));
    assert.deepEqual(parseEventMessage(null), { ok: false, reason: 'empty message' });
  });
});

describe('kafkajs logs through pino', () => {
  function levelsOf(entries: { level: logLevel; message: string; error?: string }[]): number[] {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
    const log = pinoLogCreator(logger)();
    for (const e of entries) log({ namespace: 'Connection', level: e.level, label: 'ERROR', log: { timestamp: '', logger: 'kafkajs', message: e.message, error: e.error } });
    return lines.map((line) => (JSON.parse(line) as { level: number }).level);
  }

  it('keeps kafkajs errors as errors, but a routine CONCURRENT_TRANSACTIONS answer to AddPartitionsToTxn is debug', () => {
    assert.deepEqual(levelsOf([
      { level: logLevel.ERROR, message: 'Response AddPartitionsToTxn(key: 24, version: 1)', error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing' },
      { level: logLevel.ERROR, message: 'Response Produce(key: 0, version: 7)', error: 'This server is not the leader for that topic-partition' },
      { level: logLevel.WARN, message: 'Limiting retries' },
    ]), [20, 50, 40]);
  });
});

describe('listener probe (issue 15)', () => {
  it('tells a TLS listener from a plaintext one at once, so PLAINTEXT against TLS names the cause', async () => {
    const { TestPki } = await import('../support/test-pki');
    const { checkPlaintextListeners, probeListener } = await import('../../services/core/listener-probe');
    const net = await import('node:net');
    const tls = await import('node:tls');
    const cert = TestPki.create().broker(1);
    // A TLS listener requiring client certificates, as the stack's; and a plaintext one answering like Kafka.
    const secure = tls.createServer({ key: cert.keyPem, cert: cert.certPem, requestCert: true, rejectUnauthorized: true });
    secure.on('tlsClientError', () => undefined);
    const plain = net.createServer((socket) => socket.once('data', () => socket.end(Buffer.from([0, 0, 0, 4, 0, 0, 0, 1]))));
    const listen = (server: import('node:net').Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`)));
    const [secureAt, plainAt] = [await listen(secure), await listen(plain)];
    const gone = net.createServer();
    const closed = await listen(gone);
    await new Promise((resolve) => gone.close(resolve));
    try {
      assert.equal(await probeListener(secureAt), 'tls');
      assert.equal(await probeListener(plainAt), 'plaintext');
      const base = { clientId: 'x', securityProtocol: 'PLAINTEXT' as const };
      await assert.rejects(checkPlaintextListeners({ ...base, brokers: [plainAt, secureAt] }), (error: unknown) =>
        error instanceof ConfigError && error.message.includes(`KAFKA_SECURITY_PROTOCOL=PLAINTEXT, but the broker at ${secureAt} expects TLS`) && /set KAFKA_SECURITY_PROTOCOL=SSL/.test(error.message));
      await checkPlaintextListeners({ ...base, brokers: [plainAt] });
      // Nothing listening: not this check's business (kafkajs reports a refused connection).
      await new Promise((resolve) => secure.close(resolve));
      await checkPlaintextListeners({ ...base, brokers: [closed] });
      await checkPlaintextListeners({ ...base, securityProtocol: 'SSL', brokers: [secureAt] });
    } finally {
      secure.close();
      plain.close();
    }
  });
});
