// Secrets the stack config did not provide are generated once by @pulumi/random and kept in state,
// so a second `pulumi up` sees no diff. The Kafka cluster id is generated the same way.
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';

export interface GeneratedSecretsArgs {
  grafanaAdminPassword?: pulumi.Output<string>;
  bundlePassword?: pulumi.Output<string>;
}

export class GeneratedSecrets extends pulumi.ComponentResource {
  public readonly grafanaAdminPassword: pulumi.Output<string>;
  public readonly bundlePassword: pulumi.Output<string>;
  /** KRaft cluster id: 16 random bytes, base64url, as `kafka-storage.sh random-uuid` prints it. */
  public readonly clusterId: pulumi.Output<string>;

  constructor(name: string, args: GeneratedSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:secrets:GeneratedSecrets', name, {}, opts);
    const password = (id: string): pulumi.Output<string> =>
      pulumi.secret(new random.RandomPassword(`${name}-${id}`, { length: 32, special: false }, { parent: this, additionalSecretOutputs: ['result'] }).result);
    this.grafanaAdminPassword = pulumi.secret(args.grafanaAdminPassword ?? password('grafana-admin'));
    this.bundlePassword = pulumi.secret(args.bundlePassword ?? password('bundle'));
    this.clusterId = new random.RandomId(`${name}-cluster-id`, { byteLength: 16 }, { parent: this }).b64Url;
    this.registerOutputs({});
  }
}
