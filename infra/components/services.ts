// The producer and the consumer replicas, from one image built from services/Dockerfile with the
// classic builder (BuildKit is not everywhere) and the base image as a build argument, so a
// locally built base can stand in for the public one. The image is the stack's own: BuiltImage
// leaves no build containers behind and is removed by destroy (infra/docker-engine/built-image.ts).
import type * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import path from 'node:path';
import type { TopicRole } from '../../services/core/topics';
import type { KafkaSettings, ServicesSettings } from '../config/stack-config';
import { renderConsumerContainers, renderProducerContainer, type ClientTls } from '../render/service-containers';
import { buildContextFiles, contextDigest } from '../docker-engine/build-context';
import { BuiltImage } from '../docker-engine/built-image';
import { containerFromSpec } from './docker-container';
import type { IssuedCert } from './pki';

export interface ServicesArgs {
  namePrefix: string;
  kafka: KafkaSettings;
  settings: ServicesSettings;
  networkName: pulumi.Input<string>;
  topicNames: pulumi.Input<Record<TopicRole, string>>;
  caCertPem: pulumi.Input<string>;
  producer: IssuedCert;
  consumer: IssuedCert;
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
    const tlsOf = (cert: IssuedCert): pulumi.Output<ClientTls> =>
      pulumi.all([args.caCertPem, cert.certPem, cert.keyPem]).apply(([caCertPem, certPem, keyPem]) => ({ caCertPem, certPem, keyPem }));
    const input = (tls: pulumi.Output<ClientTls>) =>
      pulumi.all([tls, args.topicNames]).apply(([t, topicNames]) => ({
        namePrefix: args.namePrefix, image: settings.imageName, kafka: args.kafka, services: settings, topicNames, tls: t,
      }));
    const producer = containerFromSpec(
      { name: `${name}-producer`, spec: input(tlsOf(args.producer)).apply(renderProducerContainer), networkName: args.networkName, image: image.imageId },
      { parent: this },
    );
    const consumerSpecs = input(tlsOf(args.consumer)).apply(renderConsumerContainers);
    const consumers = Array.from({ length: settings.consumer.replicas }, (_, i) => containerFromSpec(
      { name: `${name}-consumer-${i + 1}`, spec: consumerSpecs.apply((specs) => specs[i]!), networkName: args.networkName, image: image.imageId },
      { parent: this },
    ));
    this.containers = [producer, ...consumers];
    this.registerOutputs({ imageName: this.imageName });
  }
}
