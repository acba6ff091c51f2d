// The CLI refuses bad input before it touches Kafka, with the documented exit codes and a message
// naming the problem (no broker is running here: reaching Kafka would be a different failure).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { KafkaJSConnectionError } from 'kafkajs';
import { ConfigError } from '../../services/core/env';
import { CsvUnreadableError, openCsv } from '../../services/producer/csv-source';
import { exitCodeFor, exitCodes } from '../../services/producer/exit-codes';
import { readProducerConfig } from '../../services/producer/config';
import { checkInput } from '../../services/producer/stream-file';

const repo = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'producer-main-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function produce(args: string[], env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'services/producer/main.ts', ...args], {
    cwd: repo, encoding: 'utf8', timeout: 30_000,
    env: { PATH: process.env.PATH, KAFKA_BROKERS: '127.0.0.1:1', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', METRICS_PORT: '0', ...env },
  });
  return { status: result.status, stderr: result.stderr };
}

describe('producer CLI exit codes', () => {
  it('maps each failure that ends a run early to its code', () => {
    assert.equal(exitCodeFor(new ConfigError(['x'])), exitCodes.config);
    assert.equal(exitCodeFor(Object.assign(new Error('no such file'), { code: 'ENOENT' })), exitCodes.config);
    assert.equal(exitCodeFor(new CsvUnreadableError('f.csv', 7, 'too big')), exitCodes.input);
    assert.equal(exitCodeFor(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')), exitCodes.kafka);
    assert.equal(exitCodeFor(new TypeError('bug')), exitCodes.crash);
  });

  it('exits 2 naming every bad option and variable', () => {
    const { status, stderr } = produce(['--rate', '0', '--preset', 'kaggle'], { PRODUCER_COMPRESSION: 'lz4' });
    assert.equal(status, exitCodes.config);
    for (const expected of ['PRODUCER_FILE is required', 'PRODUCER_RATE="0"', 'PRODUCER_PRESET="kaggle"', 'PRODUCER_COMPRESSION="lz4"']) assert.ok(stderr.includes(expected), `${expected} in ${stderr}`);
    const unknown = produce(['--file', 'x.csv', '--speed', '2']);
    assert.equal(unknown.status, exitCodes.config);
    assert.match(unknown.stderr, /unknown option --speed/);
  });

  it('exits 2 for a missing file or a header that matches no preset', () => {
    const missing = produce(['--file', path.join(dir, 'nope.csv')]);
    assert.equal(missing.status, exitCodes.config);
    assert.match(missing.stderr, /nope\.csv/);
    const file = path.join(dir, 'other.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    const other = produce(['--file', file]);
    assert.equal(other.status, exitCodes.config);
    assert.match(other.stderr, /header \[a, b\] matches no preset/);
  });

  it('exits 2 for a directory where the file should be (a dataset missing on the Docker host)', async () => {
    const settings = readProducerConfig({ KAFKA_BROKERS: '127.0.0.1:1', KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT', PRODUCER_FILE: dir });
    const error = await checkInput(settings).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ConfigError && exitCodeFor(error) === exitCodes.config);
    assert.match(error.message, /is a directory, not a CSV file/);
  });

  it('exits 2 for an empty file (0 bytes, or nothing but blank lines, plain or gzip): no header, nothing to send (issue 15)', async () => {
    const file = path.join(dir, 'empty.csv');
    writeFileSync(file, '');
    const empty = produce(['--file', file]);
    assert.equal(empty.status, exitCodes.config, empty.stderr);
    assert.match(empty.stderr, /PRODUCER_FILE \S*empty\.csv is empty \(0 bytes\): no header row, nothing to send/);
    assert.doesNotMatch(empty.stderr, /cannot be read from line/);
    // The same error, so the same exit code, without a process each.
    const cases: [string, string | Buffer, RegExp][] = [
      ['blank.csv', '\r\n\r\n\r\n', /PRODUCER_FILE \S*blank\.csv has no header row \(only blank lines\): nothing to send/],
      ['empty.csv.gz', gzipSync(''), /PRODUCER_FILE \S*empty\.csv\.gz has no header row/],
    ];
    for (const [name, content, message] of cases) {
      writeFileSync(path.join(dir, name), content);
      await assert.rejects(openCsv(path.join(dir, name)), (e: unknown) => e instanceof ConfigError && message.test(e.message) && exitCodeFor(e) === exitCodes.config);
    }
  });
});
