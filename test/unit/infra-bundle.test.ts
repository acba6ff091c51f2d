// The client bundle writer (certs/): file contents, permissions, a PKCS12 store that opens with
// the password and only with it, and clear refusals of bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderBundle, writeBundle, type BundleInput } from '../../certs/bundle';
import { bundleFromOutput } from '../../certs/write-bundle';
import { TestPki } from '../support/test-pki';

describe('infra client bundle', () => {
  let input: BundleInput;
  let dir: string;
  before(() => {
    const pki = TestPki.create();
    const admin = pki.client('admin');
    input = { bootstrapServers: '127.0.0.1:19092', caCertPem: pki.ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem, password: 'correct horse battery' };
    dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders client.properties for Kafka CLI tools and a kcat config, pointing into the bundle folder', () => {
    const files = Object.fromEntries(renderBundle(input, '/b').map((f) => [f.name, f]));
    assert.deepEqual(Object.keys(files).sort(), ['admin-key.pem', 'admin.pem', 'ca.pem', 'client.properties', 'kcat.conf']);
    const props = files['client.properties']!.content;
    assert.match(props, /^bootstrap\.servers=127\.0\.0\.1:19092$/m);
    assert.match(props, /^ssl\.keystore\.type=PKCS12$/m);
    assert.match(props, /^ssl\.keystore\.location=\/b\/admin\.p12$/m);
    assert.match(props, /^ssl\.keystore\.password=correct horse battery$/m);
    assert.match(props, /^ssl\.truststore\.location=\/b\/ca\.pem$/m);
    assert.match(files['kcat.conf']!.content, /^ssl\.key\.location=\/b\/admin-key\.pem$/m);
    assert.deepEqual(Object.values(files).filter((f) => f.private).map((f) => f.name).sort(), ['admin-key.pem', 'client.properties']);
  });

  it('writes keys, password-bearing files and the store readable by the owner only', () => {
    const written = writeBundle(dir, input);
    assert.equal(written.length, 6);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of ['admin-key.pem', 'client.properties', 'admin.p12']) assert.equal(statSync(path.join(dir, name)).mode & 0o777, 0o600, name);
    assert.equal(readFileSync(path.join(dir, 'admin.pem'), 'utf8'), input.certPem);
  });

  it('the PKCS12 store holds the certificate and key, and opens with the password only', () => {
    const open = (password: string) => spawnSync('openssl', ['pkcs12', '-in', path.join(dir, 'admin.p12'), '-passin', 'env:P', '-nodes'], { env: { ...process.env, P: password }, encoding: 'utf8' });
    const opened = open(input.password);
    assert.equal(opened.status, 0, opened.stderr);
    assert.match(opened.stdout, /subject=O = ecommerce-pipeline, OU = clients, CN = admin/);
    assert.match(opened.stdout, /BEGIN PRIVATE KEY/);
    assert.notEqual(open('wrong password').status, 0);
  });

  it('refuses bad input, naming each problem', () => {
    assert.throws(() => renderBundle({ ...input, bootstrapServers: 'kafka', keyPem: 'nope', password: 'short' }, dir), (error: Error) => {
      assert.match(error.message, /bootstrapServers "kafka" is not host:port/);
      assert.match(error.message, /keyPem is not an unencrypted PEM private key/);
      assert.match(error.message, /password must have at least 8 characters/);
      return true;
    });
    assert.throws(() => bundleFromOutput({ bootstrapServers: 'a:1', certPem: 'x' }), /adminBundle output lacks caCertPem, keyPem, password/);
  });
});
