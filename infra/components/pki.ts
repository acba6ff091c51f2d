// The stack's certificate authority and every certificate it signs: one per broker, one per client
// identity. One CA rather than Strimzi's cluster/clients pair: a single stack owns both sides, and
// the organizational unit in each subject (brokers/clients) already keeps the roles apart in the
// principal mapping. Private keys are secrets: additionalSecretOutputs marks them so even where a
// provider schema would not.
//
// While a CA is being replaced (pki.caRotation, caPlan in pki-params.ts) two generations exist and
// `caCertPem` holds both, the signing one first: every trust store (brokers, services, the admin
// bundle, the program's own admin connection) trusts both, as Strimzi does, so certificates of
// either generation are accepted while the brokers and services roll one at a time.
import * as pulumi from '@pulumi/pulumi';
import * as tls from '@pulumi/tls';
import { brokerParams, caParams, caPlan, clientParams, keyAlgorithm, type CertificateParams, type PkiSettings } from '../pki/pki-params';

export interface PkiArgs {
  settings: PkiSettings;
  brokers: number;
  clients: readonly string[];
}

export interface IssuedCert {
  certPem: pulumi.Output<string>;
  /** PKCS#8 PEM, secret. */
  keyPem: pulumi.Output<string>;
}

const secretKeyOutputs = ['privateKeyPem', 'privateKeyPemPkcs8', 'privateKeyOpenssh'];

/** A private key of the stack's algorithm, every form of it secret. */
export function keyOf(name: string, parent: pulumi.Resource): tls.PrivateKey {
  return new tls.PrivateKey(`${name}-key`, { ...keyAlgorithm }, { parent, additionalSecretOutputs: secretKeyOutputs });
}

interface Ca {
  key: tls.PrivateKey;
  cert: tls.SelfSignedCert;
}

/** Generation 1 keeps the names the stack had before CA rotation existed, so no existing CA is replaced. */
export const caResourceName = (name: string, generation: number): string => (generation === 1 ? `${name}-ca` : `${name}-ca-g${generation}`);

export class Pki extends pulumi.ComponentResource {
  /** Every CA certificate the stack trusts now (one, or two during a rotation), the signing CA first. */
  public readonly caCertPem: pulumi.Output<string>;
  /** The CA generations that exist and are trusted, the signing one first. */
  public readonly caGenerations: number[];
  public readonly brokers: IssuedCert[];
  public readonly clients: Record<string, IssuedCert>;

  constructor(name: string, args: PkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:pki:Pki', name, {}, opts);
    const plan = caPlan(args.settings);
    const cas = new Map(plan.trusted.map((generation) => [generation, this.ca(caResourceName(name, generation), caParams(args.settings, generation))]));
    this.caGenerations = plan.trusted;
    const trusted = plan.trusted.map((g) => cas.get(g)!.cert.certPem);
    this.caCertPem = trusted.length === 1 ? trusted[0]! : pulumi.all(trusted).apply((pems) => pems.map((p) => `${p.trim()}\n`).join(''));
    const signer = cas.get(plan.signing)!;
    const sign = (id: string, params: CertificateParams): IssuedCert => this.issue(id, params, signer.key, signer.cert);
    this.brokers = Array.from({ length: args.brokers }, (_, i) => sign(`${name}-kafka-${i + 1}`, brokerParams(args.settings, i + 1)));
    this.clients = Object.fromEntries(args.clients.map((c) => [c, sign(`${name}-${c}`, clientParams(args.settings, c))]));
    this.registerOutputs({ caCertPem: this.caCertPem });
  }

  private ca(name: string, params: CertificateParams): Ca {
    const key = this.key(name);
    const cert = new tls.SelfSignedCert(name, {
      privateKeyPem: key.privateKeyPem,
      subject: params.subject,
      isCaCertificate: true,
      validityPeriodHours: params.validityHours,
      earlyRenewalHours: params.earlyRenewalHours,
      allowedUses: params.allowedUses,
    }, { parent: this });
    return { key, cert };
  }

  private key(name: string): tls.PrivateKey {
    return new tls.PrivateKey(`${name}-key`, { ...keyAlgorithm }, { parent: this, additionalSecretOutputs: secretKeyOutputs });
  }

  private issue(name: string, params: CertificateParams, caKey: tls.PrivateKey, caCert: tls.SelfSignedCert): IssuedCert {
    const key = this.key(name);
    const request = new tls.CertRequest(`${name}-csr`, {
      privateKeyPem: key.privateKeyPem,
      subject: params.subject,
      dnsNames: params.dnsNames,
      ipAddresses: params.ipAddresses,
    }, { parent: this });
    const cert = new tls.LocallySignedCert(`${name}-cert`, {
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: caCert.certPem,
      validityPeriodHours: params.validityHours,
      earlyRenewalHours: params.earlyRenewalHours,
      allowedUses: params.allowedUses,
      isCaCertificate: false,
    }, { parent: this });
    return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPemPkcs8) };
  }
}
