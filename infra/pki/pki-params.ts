// The parameters of every certificate the stack issues, as plain data: the Pki component hands them
// to @pulumi/tls, and test/support/test-pki.ts issues real certificates from the very same values,
// so a test broker sees exactly the subjects, SANs and usages a deployed one does.

/**
 * ECDSA P-256: small keys and fast handshakes, and understood by every party here (Java 17's
 * JSSE, Kafka's PEM key store, Node's TLS for kafkajs, librdkafka/OpenSSL for kcat).
 */
export const keyAlgorithm = { algorithm: 'ECDSA', ecdsaCurve: 'P256' } as const;

/** Organizational units split brokers from clients so the mapping rules can tell them apart. */
export const brokerUnit = 'brokers';
export const clientUnit = 'clients';

export interface Subject {
  organization: string;
  organizationalUnit?: string;
  commonName: string;
}

/** @pulumi/tls' allowed-use names (the Go x509 vocabulary). */
export type AllowedUse = 'cert_signing' | 'crl_signing' | 'digital_signature' | 'key_encipherment' | 'server_auth' | 'client_auth';

export interface CertificateParams {
  subject: Subject;
  dnsNames: string[];
  ipAddresses: string[];
  allowedUses: AllowedUse[];
  validityHours: number;
  /** @pulumi/tls replaces the certificate on the first `up` within this many hours of expiry. */
  earlyRenewalHours: number;
  isCa: boolean;
}

/**
 * Where a CA replacement stands. `none`: one CA, generation `caGeneration`, trusted and signing.
 * `trustNext`: generation `caGeneration + 1` exists and is trusted everywhere, but signs nothing yet.
 * `trustPrevious`: generation `caGeneration` signs every certificate, `caGeneration - 1` is still
 * trusted (for the certificates it signed that are still being replaced).
 */
export const caRotations = ['none', 'trustNext', 'trustPrevious'] as const;
export type CaRotation = (typeof caRotations)[number];

export interface PkiSettings {
  organization: string;
  caValidityHours: number;
  validityHours: number;
  earlyRenewalHours: number;
  /** Extra DNS name (or IP) clients outside Docker use to reach the brokers. */
  externalHost: string;
  /** The CA that signs the certificates: 1 for the stack's first CA, one more per replacement. */
  caGeneration: number;
  caRotation: CaRotation;
}

export interface CaPlan {
  /** Generations that exist and are in every trust store, the signing one first. */
  trusted: number[];
  signing: number;
}

/**
 * Which CAs exist, are trusted and sign, for a rotation phase. A replacement takes three `up`s, each
 * rolling the brokers and services, and at no point does anyone present a certificate its peer
 * does not trust (Strimzi's order): trust the new CA everywhere, then sign with it, then drop the old.
 */
export function caPlan(pki: Pick<PkiSettings, 'caGeneration' | 'caRotation'>): CaPlan {
  const g = pki.caGeneration;
  switch (pki.caRotation) {
    case 'none':
      return { trusted: [g], signing: g };
    case 'trustNext':
      return { trusted: [g, g + 1], signing: g };
    case 'trustPrevious':
      if (g < 2) throw new Error(`pki.caRotation=trustPrevious needs pki.caGeneration >= 2 (there is no generation ${g - 1} to keep trusting)`);
      return { trusted: [g, g - 1], signing: g };
  }
}

/** Kafka's principal for a client certificate is its CN; brokers are `kafka-<id>`. */
export function brokerName(nodeId: number): string {
  return `kafka-${nodeId}`;
}

const isIp = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');

/**
 * A CA of the given generation (default: the signing one). Generations after the first carry their
 * number in the subject, so that two CAs in one trust store never share a name.
 */
export function caParams(pki: PkiSettings, generation = pki.caGeneration): CertificateParams {
  return {
    subject: { organization: pki.organization, commonName: generation === 1 ? `${pki.organization} CA` : `${pki.organization} CA ${generation}` },
    dnsNames: [],
    ipAddresses: [],
    allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'],
    validityHours: pki.caValidityHours,
    earlyRenewalHours: pki.earlyRenewalHours,
    isCa: true,
  };
}

/** A broker serves clients and is a client of the other brokers, hence both TLS usages. */
export function brokerParams(pki: PkiSettings, nodeId: number): CertificateParams {
  const hosts = [brokerName(nodeId), 'localhost', '127.0.0.1', pki.externalHost];
  const unique = [...new Set(hosts)];
  return {
    subject: { organization: pki.organization, organizationalUnit: brokerUnit, commonName: brokerName(nodeId) },
    dnsNames: unique.filter((h) => !isIp(h)),
    ipAddresses: unique.filter(isIp),
    allowedUses: ['digital_signature', 'key_encipherment', 'server_auth', 'client_auth'],
    validityHours: pki.validityHours,
    earlyRenewalHours: pki.earlyRenewalHours,
    isCa: false,
  };
}

export function clientParams(pki: PkiSettings, principal: string): CertificateParams {
  return {
    subject: { organization: pki.organization, organizationalUnit: clientUnit, commonName: principal },
    dnsNames: [],
    ipAddresses: [],
    allowedUses: ['digital_signature', 'key_encipherment', 'client_auth'],
    validityHours: pki.validityHours,
    earlyRenewalHours: pki.earlyRenewalHours,
    isCa: false,
  };
}

/**
 * The subject as Java prints it (RFC 2253, most specific first): what `ssl.principal.mapping.rules`
 * match against. Go (and so @pulumi/tls) encodes O, then OU, then CN; Java reverses that order.
 */
export function rfc2253(subject: Subject): string {
  return [`CN=${subject.commonName}`, subject.organizationalUnit && `OU=${subject.organizationalUnit}`, `O=${subject.organization}`]
    .filter(Boolean)
    .join(',');
}
