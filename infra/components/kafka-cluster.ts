// The KRaft cluster: one container per node (every node broker and controller), each with its own
// data volume, rendered by infra/render/kafka-container.ts. Exposes the addresses other components
// connect to.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { KafkaSettings } from '../config/stack-config';
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
}

export class KafkaCluster extends pulumi.ComponentResource {
  /** host:port of every broker's EXTERNAL listener, as the Docker host reaches it. */
  public readonly externalBootstrap: pulumi.Output<string[]>;
  /** host:port of every broker's INTERNAL listener on the stack network. */
  public readonly internalBootstrap: pulumi.Output<string>;
  public readonly containers: docker.Container[];

  constructor(name: string, args: KafkaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:kafka:KafkaCluster', name, {}, opts);
    const { settings } = args;
    const image = new docker.RemoteImage(`${name}-image`, { name: settings.image, keepLocally: true }, { parent: this });
    this.containers = args.brokers.map((tls, i) => {
      const nodeId = i + 1;
      const volume = new docker.Volume(`${name}-${nodeId}-data`, { name: kafkaVolumeName(args.namePrefix, nodeId) }, { parent: this });
      const spec = pulumi.all([args.clusterId, args.caCertPem, tls.certPem, tls.keyPem]).apply(([clusterId, caCertPem, certPem, keyPkcs8Pem]) =>
        renderKafkaContainer({ namePrefix: args.namePrefix, nodeId, kafka: settings, organization: args.organization, clusterId, tls: { caCertPem, certPem, keyPkcs8Pem } }),
      );
      return containerFromSpec(
        { name: `${name}-${nodeId}`, spec, networkName: args.networkName, image: image.imageId, waitHealthy: true },
        { parent: this, dependsOn: [volume] },
      );
    });
    // Derived from the containers, so whatever connects through it (the topic and ACL resources)
    // waits for healthy brokers: children of a component do not inherit the component's dependsOn.
    const addresses = args.brokers.map((_, i) => `${settings.externalHost}:${externalPort(settings, i + 1)}`);
    this.externalBootstrap = pulumi.all(this.containers.map((c) => c.id)).apply(() => addresses);
    this.internalBootstrap = pulumi.output(internalBootstrap(settings));
    this.registerOutputs({ externalBootstrap: this.externalBootstrap, internalBootstrap: this.internalBootstrap });
  }
}
