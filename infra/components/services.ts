// The producer and the consumer replicas, from one image built from services/Dockerfile with the
// classic builder (BuildKit is not everywhere) and the base image as a build argument, so a
// locally built base can stand in for the public one.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import path from 'node:path';
import type { TopicRole } from '../../services/core/topics';
import type { KafkaSettings, ServicesSettings } from '../config/stack-config';
import { renderConsumerContainers, renderProducerContainer, type ClientCredentials } from '../render/service-containers';
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
}

export class Services extends pulumi.ComponentResource {
  public readonly imageName: pulumi.Output<string>;
  public readonly containers: docker.Container[];

  constructor(name: string, args: ServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:services:Services', name, {}, opts);
    const { settings } = args;
    const image = new docker.Image(`${name}-image`, {
      imageName: settings.imageName,
      build: {
        context: settings.buildContext,
        dockerfile: path.join(settings.buildContext, 'services', 'Dockerfile'),
        args: { BASE_IMAGE: settings.baseImage, ...settings.buildArgs },
        builderVersion: docker.BuilderVersion.BuilderV1,
      },
      skipPush: true,
    }, { parent: this });
    this.imageName = image.imageName;
    const input = (credentials: pulumi.Input<ClientCredentials>) =>
      pulumi.all([credentials, args.topicNames, args.bootstrap]).apply(([tls, topicNames, bootstrap]) => ({
        namePrefix: args.namePrefix, image: settings.imageName, kafka: args.kafka, services: settings, topicNames, tls, ...(bootstrap ? { bootstrap } : {}),
      }));
    const producer = containerFromSpec(
      { name: `${name}-producer`, spec: input(args.producer).apply(renderProducerContainer), networkName: args.networkName, image: image.repoDigest },
      { parent: this },
    );
    const consumerSpecs = input(args.consumer).apply(renderConsumerContainers);
    const consumers = Array.from({ length: settings.consumer.replicas }, (_, i) => containerFromSpec(
      { name: `${name}-consumer-${i + 1}`, spec: consumerSpecs.apply((specs) => specs[i]!), networkName: args.networkName, image: image.repoDigest },
      { parent: this },
    ));
    this.containers = [producer, ...consumers];
    this.registerOutputs({ imageName: this.imageName });
  }
}
