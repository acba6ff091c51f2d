// The KRaft cluster: one container per node (every node broker and controller), each with its own
// data volume, rendered by infra/render/kafka-container.ts. The nodes roll one at a time: node n+1's
// container depends on the gate of node n (infra/kafka-admin/broker-roll-gate.ts), which waits,
// whenever node n's container was replaced, until node n is back and no partition is
// under-replicated. Exposes the addresses other components connect to.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { KafkaSettings } from '../config/stack-config';
import { BrokerRollGate } from '../kafka-admin/broker-roll-gate';
import type { AdminConnection } from '../kafka-admin/connection';
import { externalPort, kafkaVolumeName, renderKafkaContainer } from '../render/kafka-container';
import { internalBootstrap } from '../render/service-containers';
import { containerFromSpec } from './docker-container';
import type { IssuedCert } from './pki';

export interface KafkaClusterArgs {
  namePrefix: string;
  settings: KafkaSettings;
  organization: string;
  networkName: pulumi.Input<string>;
  clusterId: pulumi.Input<string>;
  caCertPem: pulumi.Input<string>;
  brokers: IssuedCert[];
  /** The identity the roll gates read the cluster's metadata with. */
  admin: IssuedCert;
}

export class KafkaCluster extends pulumi.ComponentResource {
  /** host:port of every broker's EXTERNAL listener, as the Docker host reaches it. */
  public readonly externalBootstrap: pulumi.Output<string[]>;
  /** host:port of every broker's INTERNAL listener on the stack network. */
  public readonly internalBootstrap: pulumi.Output<string>;
  public readonly containers: docker.Container[] = [];
  /** One per node, in node order; the last one passes only when the whole cluster is up. */
  public readonly gates: BrokerRollGate[] = [];

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:kafka:KafkaCluster', name, {}, opts);
    const { settings } = args;
    const image = new docker.RemoteImage(`${name}-image`, { name: settings.image, keepLocally: true }, { parent: this });
    const nodeIds = args.brokers.map((_, i) => i + 1);
    const addresses = nodeIds.map((id) => `${settings.externalHost}:${externalPort(settings, id)}`);
    const connection: pulumi.Output<AdminConnection> = pulumi.secret(pulumi.all([args.caCertPem, args.admin.certPem, args.admin.keyPem])
      .apply(([ca, cert, key]) => ({ brokers: addresses, ca, cert, key })));
    for (const [i, tls] of args.brokers.entries()) {
      const nodeId = i + 1;
      const volume = new docker.Volume(`${name}-${nodeId}-data`, { name: kafkaVolumeName(args.namePrefix, nodeId) }, { parent: this });
      const spec = pulumi.all([args.clusterId, args.caCertPem, tls.certPem, tls.keyPem]).apply(([clusterId, caCertPem, certPem, keyPkcs8Pem]) =>
        renderKafkaContainer({ namePrefix: args.namePrefix, nodeId, kafka: settings, organization: args.organization, clusterId, tls: { caCertPem, certPem, keyPkcs8Pem } }),
      );
      const previousGate = this.gates.at(-1);
      // Not waited for healthy by the provider: on the first `up` a node of a quorum is healthy only
      // once a majority runs, and the next node waits for this one's gate. The gates wait instead.
      const container = containerFromSpec(
        { name: `${name}-${nodeId}`, spec, networkName: args.networkName, image: image.imageId, waitHealthy: false },
        { parent: this, dependsOn: previousGate ? [volume, previousGate] : [volume] },
      );
      this.containers.push(container);
      this.gates.push(new BrokerRollGate(`${name}-${nodeId}-rolled`, {
        nodeId,
        containerId: container.id,
        address: addresses[i]!,
        nodeIds,
        connection,
        timeoutSeconds: settings.rollTimeoutSeconds,
        waitOnCreate: nodeId === nodeIds.length,
      }, { parent: this }));
    }
    // Derived from the gates, so whatever connects through it (the topic and ACL resources) waits
    // for a whole cluster: children of a component do not inherit the component's dependsOn.
    this.externalBootstrap = pulumi.all(this.gates.map((g) => g.id)).apply(() => addresses);
    this.internalBootstrap = pulumi.output(internalBootstrap(settings));
    this.registerOutputs({ externalBootstrap: this.externalBootstrap, internalBootstrap: this.internalBootstrap });
  }
}
