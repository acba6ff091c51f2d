// The stack's certificate authority and every certificate it signs: one per broker, one per client
// identity. One CA rather than Strimzi's cluster/clients pair: a single stack owns both sides, and
// the organizational unit in each subject (brokers/clients) already keeps the roles apart in the
// principal mapping. Private keys are secrets: additionalSecretOutputs marks them so even where a
// provider schema would not.
import * as pulumi from '@pulumi/pulumi';
import * as tls from '@pulumi/tls';
import { brokerParams, caParams, clientParams, keyAlgorithm, type CertificateParams, type PkiSettings } from '../pki/pki-params';

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

export class Pki extends pulumi.ComponentResource {
  public readonly caCertPem: pulumi.Output<string>;
  public readonly brokers: IssuedCert[];
  public readonly clients: Record<string, IssuedCert>;

  constructor(name: string, args: PkiArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:pki:Pki', name, {}, opts);
    const caKey = this.key(`${name}-ca`);
    const ca = caParams(args.settings);
    const caCert = new tls.SelfSignedCert(`${name}-ca`, {
      privateKeyPem: caKey.privateKeyPem,
      subject: ca.subject,
      isCaCertificate: true,
      validityPeriodHours: ca.validityHours,
      earlyRenewalHours: ca.earlyRenewalHours,
      allowedUses: ca.allowedUses,
    }, { parent: this });
    this.caCertPem = caCert.certPem;
    const sign = (id: string, params: CertificateParams): IssuedCert => this.issue(id, params, caKey, caCert);
    this.brokers = Array.from({ length: args.brokers }, (_, i) => sign(`${name}-kafka-${i + 1}`, brokerParams(args.settings, i + 1)));
    this.clients = Object.fromEntries(args.clients.map((c) => [c, sign(`${name}-${c}`, clientParams(args.settings, c))]));
    this.registerOutputs({ caCertPem: this.caCertPem });
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
