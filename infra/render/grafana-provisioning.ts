// Grafana's file provisioning (datasource, dashboard provider) and its environment. Everything a
// viewer sees is provisioned from code and locked: the datasource and the dashboards cannot be
// edited or deleted in the UI, so a deploy is the only way to change them.
import { ConfigError } from '../../services/core/env';
import { dashboardFiles, prometheusDatasourceUid } from '../dashboards/model';
import { toYaml } from './yaml';

export { prometheusDatasourceUid };
/** Where the dashboard provider looks for the JSON files renderDashboards() returns. */
export const grafanaDashboardsDir = '/var/lib/grafana/dashboards';
/** Where the two provisioning files go in the container (Grafana's default provisioning path). */
export const grafanaProvisioningFiles = {
  datasources: '/etc/grafana/provisioning/datasources/prometheus.yaml',
  dashboards: '/etc/grafana/provisioning/dashboards/ecommerce-pipeline.yaml',
} as const;

export interface GrafanaDatasourceArgs {
  /** How Grafana's server reaches Prometheus, e.g. http://prometheus:9090 on the stack network. */
  prometheusUrl: string;
  /** Prometheus' scrape interval: Grafana's $__rate_interval needs it to pick wide enough ranges. */
  scrapeIntervalSeconds?: number;
}

export function renderGrafanaDatasources(args: GrafanaDatasourceArgs): string {
  return toYaml(grafanaDatasources(args), 'Rendered by infra/render/grafana-provisioning.ts.');
}

/** Grafana's datasource provisioning file, as far as we use it. */
export type GrafanaDatasourcesYaml = {
  apiVersion: 1;
  datasources: {
    name: string;
    type: 'prometheus';
    uid: string;
    access: 'proxy';
    url: string;
    isDefault: boolean;
    editable: boolean;
    jsonData: { httpMethod: 'POST' | 'GET'; timeInterval: string };
  }[];
};

export function grafanaDatasources({ prometheusUrl, scrapeIntervalSeconds = 15 }: GrafanaDatasourceArgs): GrafanaDatasourcesYaml {
  const problems: string[] = [];
  if (!isHttpUrl(prometheusUrl)) problems.push(`prometheusUrl ${JSON.stringify(prometheusUrl)} is not an http(s) URL`);
  if (!Number.isInteger(scrapeIntervalSeconds) || scrapeIntervalSeconds < 1) {
    problems.push(`scrapeIntervalSeconds=${String(scrapeIntervalSeconds)} is not a positive integer`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        type: 'prometheus',
        uid: prometheusDatasourceUid,
        access: 'proxy',
        url: prometheusUrl,
        isDefault: true,
        // Provisioned means owned by the deploy: the UI must not drift from the code.
        editable: false,
        jsonData: { httpMethod: 'POST', timeInterval: `${scrapeIntervalSeconds}s` },
      },
    ],
  };
}

export function renderGrafanaDashboardProvider(): string {
  return toYaml(grafanaDashboardProvider(), 'Rendered by infra/render/grafana-provisioning.ts.');
}

/** Grafana's dashboard provider file, as far as we use it. */
export type GrafanaDashboardProviderYaml = {
  apiVersion: 1;
  providers: {
    name: string;
    orgId: number;
    folder: string;
    type: 'file';
    disableDeletion: boolean;
    allowUiUpdates: boolean;
    updateIntervalSeconds: number;
    options: { path: string; foldersFromFilesStructure: boolean };
  }[];
};

export function grafanaDashboardProvider(): GrafanaDashboardProviderYaml {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'ecommerce-pipeline',
        orgId: 1,
        folder: 'E-commerce pipeline',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: grafanaDashboardsDir, foldersFromFilesStructure: false },
      },
    ],
  };
}

export interface GrafanaEnvArgs {
  adminUser: string;
  /** From a Pulumi secret; call inside Output.apply so the env stays secret. */
  adminPassword: string;
}

// Passwords Grafana ships with or that people try first: refusing them keeps "admin/admin" out.
const defaultPasswords = new Set(['admin', 'password', 'grafana', 'changeme', 'prom-operator']);
export const minAdminPasswordLength = 12;

export function grafanaEnv({ adminUser, adminPassword }: GrafanaEnvArgs): Record<string, string> {
  const problems: string[] = [];
  if (!/^[a-zA-Z0-9._-]{1,64}$/.test(adminUser)) problems.push(`adminUser ${JSON.stringify(adminUser)} is not 1-64 of [a-zA-Z0-9._-]`);
  // The password itself never goes into a message: it may be a real secret.
  if (adminPassword.length < minAdminPasswordLength) problems.push(`adminPassword is shorter than ${minAdminPasswordLength} characters`);
  if (defaultPasswords.has(adminPassword.toLowerCase())) problems.push('adminPassword is a well-known default');
  if (adminPassword === adminUser) problems.push('adminPassword equals adminUser');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    GF_SECURITY_ADMIN_USER: adminUser,
    GF_SECURITY_ADMIN_PASSWORD: adminPassword,
    GF_AUTH_ANONYMOUS_ENABLED: 'false',
    GF_AUTH_DISABLE_LOGIN_FORM: 'false',
    GF_AUTH_BASIC_ENABLED: 'true',
    GF_USERS_ALLOW_SIGN_UP: 'false',
    GF_USERS_ALLOW_ORG_CREATE: 'false',
    GF_SECURITY_DISABLE_GRAVATAR: 'true',
    GF_SECURITY_COOKIE_SAMESITE: 'strict',
    GF_SECURITY_ALLOW_EMBEDDING: 'false',
    GF_SNAPSHOTS_EXTERNAL_ENABLED: 'false',
    // The stack runs without calling home: no usage reports, update checks or plugin downloads.
    GF_ANALYTICS_REPORTING_ENABLED: 'false',
    GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
    GF_PLUGINS_PREINSTALL_DISABLED: 'true',
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: `${grafanaDashboardsDir}/${dashboardFiles.overview}`,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}
