// Prometheus and Grafana: configuration and dashboards rendered as code (infra/render/*) and
// uploaded; both published on the host's loopback only unless a stack opts out.
import type { MonitoringSettings, ServicesSettings } from '../config/stack-config';
import type { ContainerSpec } from './container-spec';
import { renderDashboards } from './dashboards';
import { grafanaDashboardsDir, grafanaEnv, grafanaProvisioningFiles, renderGrafanaDashboardProvider, renderGrafanaDatasources } from './grafana-provisioning';
import { renderPrometheusConfig } from './prometheus-config';
import { serviceScrapeTargets } from './service-containers';

export const prometheusConfigPath = '/etc/prometheus/prometheus.yml';

export interface MonitoringInput {
  namePrefix: string;
  bindAddress: string;
  monitoring: MonitoringSettings;
  services: ServicesSettings;
}

export function renderPrometheusContainer(input: MonitoringInput): ContainerSpec {
  const config = renderPrometheusConfig({ scrapeIntervalSeconds: input.monitoring.scrapeIntervalSeconds, targets: serviceScrapeTargets(input.services) });
  return {
    name: `${input.namePrefix}-prometheus`,
    image: input.monitoring.prometheusImage,
    command: [`--config.file=${prometheusConfigPath}`, '--storage.tsdb.path=/prometheus', '--web.listen-address=:9090', '--storage.tsdb.retention.time=15d'],
    env: {},
    ports: [{ internal: 9090, external: input.monitoring.prometheusPort, ip: input.bindAddress }],
    uploads: [{ path: prometheusConfigPath, content: config, mode: 0o644 }],
    volumes: [{ volumeName: `${input.namePrefix}-prometheus-data`, containerPath: '/prometheus' }],
    networkAliases: ['prometheus'],
    restart: 'unless-stopped',
    dependsOn: [],
  };
}

export function renderGrafanaContainer(input: MonitoringInput & { adminPassword: string }): ContainerSpec {
  const owned = { mode: 0o644 }; // root-owned, world-readable: no secret in these files
  const dashboards = Object.entries(renderDashboards()).map(([file, json]) => ({ path: `${grafanaDashboardsDir}/${file}`, content: json, ...owned }));
  return {
    name: `${input.namePrefix}-grafana`,
    image: input.monitoring.grafanaImage,
    env: grafanaEnv({ adminUser: input.monitoring.grafanaAdminUser, adminPassword: input.adminPassword }),
    ports: [{ internal: 3000, external: input.monitoring.grafanaPort, ip: input.bindAddress }],
    uploads: [
      { path: grafanaProvisioningFiles.datasources, content: renderGrafanaDatasources({ prometheusUrl: 'http://prometheus:9090' }), ...owned },
      { path: grafanaProvisioningFiles.dashboards, content: renderGrafanaDashboardProvider(), ...owned },
      ...dashboards,
    ],
    volumes: [{ volumeName: `${input.namePrefix}-grafana-data`, containerPath: '/var/lib/grafana' }],
    networkAliases: ['grafana'],
    restart: 'unless-stopped',
    dependsOn: [`${input.namePrefix}-prometheus`],
  };
}
