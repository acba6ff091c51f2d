// Grafana's provisioning and environment: one locked Prometheus datasource, dashboards from the
// provider folder, and the security settings (no anonymous access, no sign-up, no default password).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../services/core/env';
import {
  grafanaDashboardProvider,
  grafanaDashboardsDir,
  grafanaDatasources,
  grafanaEnv,
  prometheusDatasourceUid,
  renderGrafanaDatasources,
} from '../../infra/render/grafana-provisioning';
import { renderDashboards } from '../../infra/render/dashboards';

const password = 'c0rrect-horse-battery';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('Grafana datasource provisioning', () => {
  it('provisions one default Prometheus datasource, uid fixed, URL from the argument, not editable', () => {
    assert.deepEqual(grafanaDatasources({ prometheusUrl: 'http://prometheus:9090', scrapeIntervalSeconds: 5 }), {
      apiVersion: 1,
      datasources: [
        {
          name: 'Prometheus',
          type: 'prometheus',
          uid: 'prometheus',
          access: 'proxy',
          url: 'http://prometheus:9090',
          isDefault: true,
          editable: false,
          jsonData: { httpMethod: 'POST', timeInterval: '5s' },
        },
      ],
    });
    const text = renderGrafanaDatasources({ prometheusUrl: 'http://prometheus:9090' });
    assert.match(text, /^ {4}editable: false$/m);
    assert.match(text, /^ {4}url: "http:\/\/prometheus:9090"$/m);
  });

  it('refuses a URL Grafana could not use and names it', () => {
    assert.deepEqual(problemsOf(() => renderGrafanaDatasources({ prometheusUrl: 'prometheus:9090' })), [
      'prometheusUrl "prometheus:9090" is not an http(s) URL',
    ]);
    assert.equal(problemsOf(() => renderGrafanaDatasources({ prometheusUrl: 'http://p:9090', scrapeIntervalSeconds: 0 })).length, 1);
  });

  it('every dashboard target uses the provisioned datasource uid', () => {
    for (const [file, text] of Object.entries(renderDashboards())) {
      const dashboard = JSON.parse(text) as { panels: { targets?: { datasource: { uid: string } }[] }[] };
      const uids = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.datasource.uid)));
      assert.deepEqual([...uids], [prometheusDatasourceUid], file);
    }
  });
});

describe('Grafana dashboard provider', () => {
  it('loads dashboards from the folder the files are uploaded to and keeps them locked', () => {
    const provider = grafanaDashboardProvider().providers;
    assert.equal(provider.length, 1);
    assert.equal(provider[0]!.type, 'file');
    assert.deepEqual(provider[0]!.options, { path: grafanaDashboardsDir, foldersFromFilesStructure: false });
    assert.equal(grafanaDashboardsDir, '/var/lib/grafana/dashboards');
    assert.equal(provider[0]!.allowUiUpdates, false);
    assert.equal(provider[0]!.disableDeletion, true);
  });
});

describe('grafanaEnv', () => {
  it('takes the admin credentials from the arguments and switches anonymous access and sign-up off', () => {
    const env = grafanaEnv({ adminUser: 'ops', adminPassword: password });
    assert.equal(env.GF_SECURITY_ADMIN_USER, 'ops');
    assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, password);
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'false');
    assert.equal(env.GF_AUTH_DISABLE_LOGIN_FORM, 'false');
    assert.equal(env.GF_USERS_ALLOW_SIGN_UP, 'false');
    assert.equal(env.GF_USERS_ALLOW_ORG_CREATE, 'false');
    assert.equal(env.GF_SNAPSHOTS_EXTERNAL_ENABLED, 'false');
  });

  it('makes the overview dashboard the home page, and it exists', () => {
    const home = grafanaEnv({ adminUser: 'admin', adminPassword: password }).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    assert.ok(home.startsWith(`${grafanaDashboardsDir}/`));
    assert.ok(Object.keys(renderDashboards()).includes(home.slice(grafanaDashboardsDir.length + 1)), home);
  });

  it('never settles for a default, short or user-named password, and never prints it', () => {
    for (const [adminPassword, pattern] of [
      ['', /shorter than 12/],
      ['admin', /shorter than 12/],
      ['changeme', /shorter than 12/],
      ['PROM-OPERATOR', /well-known default/],
      ['administrator1', /equals adminUser/],
    ] as const) {
      const problems = problemsOf(() => grafanaEnv({ adminUser: 'administrator1', adminPassword }));
      assert.ok(problems.some((p) => pattern.test(p)), `${adminPassword}: ${problems.join('; ')}`);
      // 'admin' is a substring of the field name itself; longer ones would only appear by leaking.
      if (adminPassword.length > 5) assert.ok(problems.every((p) => !p.includes(adminPassword)), 'password leaked into the message');
    }
  });

  it('refuses an admin user name Grafana would mangle', () => {
    assert.deepEqual(problemsOf(() => grafanaEnv({ adminUser: 'ops team', adminPassword: password })), [
      'adminUser "ops team" is not 1-64 of [a-zA-Z0-9._-]',
    ]);
  });
});
