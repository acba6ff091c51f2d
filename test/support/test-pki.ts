// Real certificates for tests, issued with the exact parameters the stack's Pki component gives
// @pulumi/tls (infra/pki/pki-params.ts): same key algorithm, subjects, SANs, usages and validity.
// OpenSSL issues them because node-forge cannot make ECDSA keys. Used by the infra integration
// tests and the container tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  brokerParams, caParams, clientParams, keyAlgorithm, type AllowedUse, type CertificateParams, type PkiSettings, type Subject,
} from '../../infra/pki/pki-params';

export interface IssuedCertificate {
  certPem: string;
  /** Unencrypted PKCS#8, as @pulumi/tls' privateKeyPemPkcs8. */
  keyPem: string;
}

export const testPkiSettings: PkiSettings = {
  organization: 'ecommerce-pipeline',
  caValidityHours: 87600,
  validityHours: 8760,
  earlyRenewalHours: 720,
  externalHost: '127.0.0.1',
  caGeneration: 1,
  caRotation: 'none',
};

const keyUsageNames: Partial<Record<AllowedUse, string>> = {
  cert_signing: 'keyCertSign', crl_signing: 'cRLSign', digital_signature: 'digitalSignature', key_encipherment: 'keyEncipherment',
};
const extendedUsageNames: Partial<Record<AllowedUse, string>> = { server_auth: 'serverAuth', client_auth: 'clientAuth' };

function openssl(args: string[], cwd: string): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`openssl ${args[0]} could not run: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.stderr}`);
}

/** The subject in OpenSSL's -subj form, in Go's encoding order (O, OU, CN). */
export function opensslSubject(subject: Subject): string {
  const escape = (v: string): string => v.replace(/[/\\]/g, (c) => `\\${c}`);
  return [`/O=${escape(subject.organization)}`, subject.organizationalUnit ? `/OU=${escape(subject.organizationalUnit)}` : '', `/CN=${escape(subject.commonName)}`].join('');
}

export function opensslExtensions(params: CertificateParams): string {
  const keyUsage = params.allowedUses.map((u) => keyUsageNames[u]).filter(Boolean);
  const extended = params.allowedUses.map((u) => extendedUsageNames[u]).filter(Boolean);
  const sans = [...params.dnsNames.map((d) => `DNS:${d}`), ...params.ipAddresses.map((ip) => `IP:${ip}`)];
  return [
    '[v3]',
    `basicConstraints=critical,CA:${params.isCa ? 'TRUE' : 'FALSE'}`,
    `keyUsage=critical,${keyUsage.join(',')}`,
    ...(extended.length > 0 ? [`extendedKeyUsage=${extended.join(',')}`] : []),
    ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
    'subjectKeyIdentifier=hash',
    '',
  ].join('\n');
}

/** @pulumi/tls counts validity in hours; OpenSSL in days, so a partial day rounds up. */
const days = (hours: number): string => String(Math.ceil(hours / 24));

export class TestPki {
  private constructor(
    readonly settings: PkiSettings,
    readonly ca: IssuedCertificate,
  ) {}

  /** A fresh CA. A second TestPki is a foreign CA whose certificates the first one does not trust. */
  static create(settings: PkiSettings = testPkiSettings): TestPki {
    if (keyAlgorithm.algorithm !== 'ECDSA' || keyAlgorithm.ecdsaCurve !== 'P256') throw new Error('test-pki issues ECDSA P-256 only: update it with pki-params');
    return new TestPki(settings, issue(caParams(settings)));
  }

  broker(nodeId: number): IssuedCertificate {
    return issue(brokerParams(this.settings, nodeId), this.ca);
  }

  client(principal: string): IssuedCertificate {
    return issue(clientParams(this.settings, principal), this.ca);
  }

  /** Any certificate this CA signs: e.g. a client of an organizational unit the brokers do not map. */
  issue(params: CertificateParams): IssuedCertificate {
    return issue(params, this.ca);
  }

  /** kafkajs `ssl` settings for a client certificate of this CA. */
  kafkaJsSsl(client: IssuedCertificate): { ca: string[]; cert: string; key: string; rejectUnauthorized: true } {
    return { ca: [this.ca.certPem], cert: client.certPem, key: client.keyPem, rejectUnauthorized: true };
  }
}

function issue(params: CertificateParams, signer?: IssuedCertificate): IssuedCertificate {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'test-pki-'));
  try {
    writeFileSync(path.join(dir, 'ext.cnf'), opensslExtensions(params));
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'], dir);
    const common = ['-days', days(params.validityHours), '-extfile', 'ext.cnf', '-extensions', 'v3', '-out', 'cert.pem'];
    openssl(['req', '-new', '-key', 'key.pem', '-subj', opensslSubject(params.subject), '-out', 'csr.pem'], dir);
    if (signer) {
      writeFileSync(path.join(dir, 'ca.pem'), signer.certPem);
      writeFileSync(path.join(dir, 'ca-key.pem'), signer.keyPem, { mode: 0o600 });
      openssl(['x509', '-req', '-in', 'csr.pem', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-set_serial', `0x${randomSerial()}`, ...common], dir);
    } else {
      openssl(['x509', '-req', '-in', 'csr.pem', '-signkey', 'key.pem', '-set_serial', `0x${randomSerial()}`, ...common], dir);
    }
    return { certPem: readFileSync(path.join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(path.join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function randomSerial(): string {
  return Array.from({ length: 16 }, () => Math.floor(Math.random() * 16).toString(16)).join('').replace(/^0/, '1');
}
