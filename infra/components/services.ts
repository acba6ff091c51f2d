// The producer and the consumer replicas, from one image built from services/Dockerfile with the
// classic builder (BuildKit is not everywhere) and the base image as a build argument, so a
// locally built base can stand in for the public one. The image is the stack's own: BuiltImage
// leaves no build containers behind and is removed by destroy (infra/docker-engine/built-image.ts).
// Consumer replicas roll one at a time: replica n+1 depends on the gate of replica n
// (infra/kafka-admin/consumer-roll-gate.ts).
import type * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import path from 'node:path';
import { windowGroupId } from '../../services/consumer/window-stage';
import type { TopicRole } from '../../services/core/topics';
import type { AdminConnection } from '../kafka-admin/connection';
import { ConsumerRollGate } from '../kafka-admin/consumer-roll-gate';
import type { KafkaSettings, ServicesSettings } from '../config/stack-config';
import { renderConsumerContainers, renderProducerContainer, type ClientCredentials } from '../render/service-containers';
import { buildContextFiles, contextDigest } from '../docker-engine/build-context';
import { BuiltImage } from '../docker-engine/built-image';
import { containerFromSpec } from './docker-container';

export interface ServicesArgs {
  namePrefix: string;
  kafka: KafkaSettings;
  settings: ServicesSettings;
  networkName: pulumi.Input<string>;
  topicNames: pulumi.Input<Record<TopicRole, string>>;
  /** Each service's own identity and the CA that signed the brokers' certificates; secret. */
  producer: pulumi.Input<ClientCredentials>;
  consumer: pulumi.Input<ClientCredentials>;
  /** A cluster this stack does not run: its bootstrap servers (otherwise the stack's brokers by name). */
  bootstrap?: pulumi.Input<string>;
  /**
   * What the consumer roll gates read the groups with (the admin's; a Pulumi resource, never a
   * container). A workers stack holds no admin identity: its replicas roll without gates.
   */
  adminConnection?: pulumi.Input<AdminConnection>;
}

export class Services extends pulumi.ComponentResource {
  public readonly imageName: pulumi.Output<string>;
  public readonly containers: docker.Container[];

  constructor(name: string, args: ServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:services:Services', name, {}, opts);
    const { settings } = args;
    const dockerfile = path.join('services', 'Dockerfile');
    const image = new BuiltImage(`${name}-image`, {
      imageName: settings.imageName,
      context: settings.buildContext,
      dockerfile,
      buildArgs: { BASE_IMAGE: settings.baseImage, ...settings.buildArgs },
      contextDigest: contextDigest(buildContextFiles(settings.buildContext, dockerfile)),
    }, { parent: this });
    this.imageName = image.imageName;
    const input = (credentials: pulumi.Input<ClientCredentials>) =>
      pulumi.all([credentials, args.topicNames, args.bootstrap]).apply(([tls, topicNames, bootstrap]) => ({
        namePrefix: args.namePrefix, image: settings.imageName, kafka: args.kafka, services: settings, topicNames, tls, ...(bootstrap ? { bootstrap } : {}),
      }));
    const producer = containerFromSpec(
      { name: `${name}-producer`, spec: input(args.producer).apply(renderProducerContainer), networkName: args.networkName, image: image.imageId },
      { parent: this },
    );
    const consumerSpecs = input(args.consumer).apply(renderConsumerContainers);
    const groupId = settings.consumer.settings.groupId;
    const groups = pulumi.output(args.topicNames).apply((t) => [{ groupId, topic: t.raw }, { groupId: windowGroupId(groupId), topic: t.repartition }]);
    const consumers: docker.Container[] = [];
    let previousGate: ConsumerRollGate | undefined;
    for (let i = 0; i < settings.consumer.replicas; i++) {
      const replica = `${name}-consumer-${i + 1}`;
      const container = containerFromSpec(
        { name: replica, spec: consumerSpecs.apply((specs) => specs[i]!), networkName: args.networkName, image: image.imageId },
        { parent: this, ...(previousGate ? { dependsOn: [previousGate] } : {}) },
      );
      consumers.push(container);
      // The last replica's gate holds nothing back, but makes `up` report a replica that never settles.
      if (!args.adminConnection) continue;
      previousGate = new ConsumerRollGate(`${replica}-rolled`, {
        replica, containerId: container.id, groups, members: settings.consumer.replicas,
        connection: args.adminConnection, timeoutSeconds: args.kafka.rollTimeoutSeconds,
      }, { parent: this });
    }
    this.containers = [producer, ...consumers];
    this.registerOutputs({ imageName: this.imageName });
  }
}
