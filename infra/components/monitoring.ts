// Prometheus scraping the services by container name, and Grafana with its datasource and
// dashboards provisioned from code (infra/render/dashboards.ts); both on the host's loopback.
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { MonitoringSettings, ServicesSettings } from '../config/stack-config';
import { renderGrafanaContainer, renderPrometheusContainer } from '../render/monitoring-containers';
import { containerFromSpec } from './docker-container';

export interface MonitoringArgs {
  namePrefix: string;
  bindAddress: string;
  settings: MonitoringSettings;
  services: ServicesSettings;
  networkName: pulumi.Input<string>;
  grafanaAdminPassword: pulumi.Input<string>;
}

export class Monitoring extends pulumi.ComponentResource {
  public readonly prometheusUrl: pulumi.Output<string>;
  /** Empty when the stack turns Grafana off (`monitoring.grafana: false`). */
  public readonly grafanaUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('ecommerce-pipeline:monitoring:Monitoring', name, {}, opts);
    const input = { namePrefix: args.namePrefix, bindAddress: args.bindAddress, monitoring: args.settings, services: args.services };
    const volume = (suffix: string): docker.Volume =>
      new docker.Volume(`${name}-${suffix}-data`, { name: `${args.namePrefix}-${suffix}-data` }, { parent: this });
    const image = (suffix: string, ref: string): docker.RemoteImage =>
      new docker.RemoteImage(`${name}-${suffix}-image`, { name: ref, keepLocally: true }, { parent: this });

    const prometheus = containerFromSpec({
      name: `${name}-prometheus`,
      spec: pulumi.output(renderPrometheusContainer(input)),
      networkName: args.networkName,
      image: image('prometheus', args.settings.prometheusImage).imageId,
    }, { parent: this, dependsOn: [volume('prometheus')] });
    if (args.settings.grafana) {
      const grafanaSpec = pulumi.secret(args.grafanaAdminPassword).apply((adminPassword) => renderGrafanaContainer({ ...input, adminPassword }));
      containerFromSpec({
        name: `${name}-grafana`,
        spec: grafanaSpec,
        networkName: args.networkName,
        image: image('grafana', args.settings.grafanaImage).imageId,
        secretEnv: true,
      }, { parent: this, dependsOn: [volume('grafana'), prometheus] });
    }

    const host = args.bindAddress === '0.0.0.0' ? 'localhost' : args.bindAddress;
    this.prometheusUrl = pulumi.output(`http://${host}:${args.settings.prometheusPort}`);
    this.grafanaUrl = pulumi.output(args.settings.grafana ? `http://${host}:${args.settings.grafanaPort}` : '');
    this.registerOutputs({ prometheusUrl: this.prometheusUrl, grafanaUrl: this.grafanaUrl });
  }
}
