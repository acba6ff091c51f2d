// A client bundle: everything a person or a tool needs to connect to a stack's brokers as one
// identity (normally `admin`). renderBundle is pure; writeBundle adds the PKCS12 store (made by
// OpenSSL, which also handles the ECDSA keys node-forge cannot) and writes it all, private files 0600.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BundleInput {
  bootstrapServers: string;
  caCertPem: string;
  certPem: string;
  /** PKCS#8 or SEC1 PEM, unencrypted. */
  keyPem: string;
  /** Protects the PKCS12 store. */
  password: string;
  /** File name stem: `admin` → admin.pem, admin-key.pem, admin.p12. */
  identity?: string;
}

export interface BundleFile {
  name: string;
  content: string;
  /** Holds a key or a password. */
  private: boolean;
}

export const bundleFileNames = (identity = 'admin') => ({
  ca: 'ca.pem',
  cert: `${identity}.pem`,
  key: `${identity}-key.pem`,
  pkcs12: `${identity}.p12`,
  clientProperties: 'client.properties',
  kcat: 'kcat.conf',
});

function checkInput(input: BundleInput): void {
  const problems: string[] = [];
  if (!/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/.test(input.bootstrapServers)) problems.push(`bootstrapServers ${JSON.stringify(input.bootstrapServers)} is not host:port[,host:port…]`);
  if (!input.caCertPem.includes('BEGIN CERTIFICATE')) problems.push('caCertPem is not a PEM certificate');
  if (!input.certPem.includes('BEGIN CERTIFICATE')) problems.push('certPem is not a PEM certificate');
  if (!/BEGIN (EC |RSA )?PRIVATE KEY/.test(input.keyPem)) problems.push('keyPem is not an unencrypted PEM private key');
  if (input.password.length < 8) problems.push('password must have at least 8 characters');
  if (/[\r\n]/.test(input.password)) problems.push('password must be one line');
  if (problems.length > 0) throw new Error(`cannot write the client bundle:\n  - ${problems.join('\n  - ')}`);
}

/** The text files of a bundle that will live in `dir` (the configs point at absolute paths there). */
export function renderBundle(input: BundleInput, dir: string): BundleFile[] {
  checkInput(input);
  const names = bundleFileNames(input.identity);
  const at = (name: string): string => path.join(path.resolve(dir), name);
  // Java's Properties format treats backslashes as escapes; paths and passwords are written verbatim otherwise.
  const prop = (value: string): string => value.replace(/\\/g, '\\\\');
  const clientProperties = [
    '# Kafka CLI tools: kafka-topics.sh --bootstrap-server … --command-config client.properties',
    `bootstrap.servers=${input.bootstrapServers}`,
    'security.protocol=SSL',
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${prop(at(names.pkcs12))}`,
    `ssl.keystore.password=${prop(input.password)}`,
    `ssl.key.password=${prop(input.password)}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${prop(at(names.ca))}`,
    '',
  ].join('\n');
  const kcat = [
    '# kcat -F kcat.conf -L',
    `bootstrap.servers=${input.bootstrapServers}`,
    'security.protocol=ssl',
    `ssl.ca.location=${at(names.ca)}`,
    `ssl.certificate.location=${at(names.cert)}`,
    `ssl.key.location=${at(names.key)}`,
    '',
  ].join('\n');
  return [
    { name: names.ca, content: input.caCertPem, private: false },
    { name: names.cert, content: input.certPem, private: false },
    { name: names.key, content: input.keyPem, private: true },
    { name: names.clientProperties, content: clientProperties, private: true },
    { name: names.kcat, content: kcat, private: false },
  ];
}

/** A PKCS12 store with the key, its certificate and the CA, encrypted with the password. */
export function pkcs12(input: BundleInput): Buffer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  try {
    writeFileSync(path.join(dir, 'key.pem'), input.keyPem, { mode: 0o600 });
    writeFileSync(path.join(dir, 'cert.pem'), input.certPem);
    writeFileSync(path.join(dir, 'ca.pem'), input.caCertPem);
    const result = spawnSync('openssl', [
      'pkcs12', '-export', '-inkey', 'key.pem', '-in', 'cert.pem', '-certfile', 'ca.pem', '-name', input.identity ?? 'admin',
      '-passout', 'env:BUNDLE_PASSWORD', '-out', 'store.p12',
    ], { cwd: dir, env: { ...process.env, BUNDLE_PASSWORD: input.password }, encoding: 'utf8' });
    if (result.error) throw new Error(`openssl is needed to write the PKCS12 store: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`openssl pkcs12 -export failed: ${result.stderr}`);
    return readFileSync(path.join(dir, 'store.p12'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the bundle into `dir` (created 0700); returns the paths written. */
export function writeBundle(dir: string, input: BundleInput): string[] {
  const files = renderBundle(input, dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const written = files.map((file) => {
    const target = path.join(dir, file.name);
    writeFileSync(target, file.content, { mode: file.private ? 0o600 : 0o644 });
    chmodSync(target, file.private ? 0o600 : 0o644);
    return target;
  });
  const store = path.join(dir, bundleFileNames(input.identity).pkcs12);
  writeFileSync(store, pkcs12(input), { mode: 0o600 });
  chmodSync(store, 0o600);
  return [...written, store];
}
