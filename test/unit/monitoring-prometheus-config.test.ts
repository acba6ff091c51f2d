// The scrape config the stack's Prometheus loads: right jobs and targets, Prometheus' constraints
// held, and every bad argument named. (test/integration/monitoring-prometheus.test.ts runs it.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../services/core/env';
import { prometheusConfig, renderPrometheusConfig } from '../../infra/render/prometheus-config';
import { toYaml } from '../../infra/render/yaml';

const stackTargets = [
  { job: 'producer', targets: ['producer:9464'] },
  { job: 'consumer', targets: ['consumer-0:9464', 'consumer-1:9464'] },
];

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('renderPrometheusConfig', () => {
  it('scrapes one job per service with every instance by name:port', () => {
    assert.deepEqual(prometheusConfig({ scrapeIntervalSeconds: 15, targets: stackTargets }), {
      global: { scrape_interval: '15s', scrape_timeout: '10s', evaluation_interval: '15s' },
      scrape_configs: [
        { job_name: 'producer', metrics_path: '/metrics', scheme: 'http', static_configs: [{ targets: ['producer:9464'] }] },
        { job_name: 'consumer', metrics_path: '/metrics', scheme: 'http', static_configs: [{ targets: ['consumer-0:9464', 'consumer-1:9464'] }] },
      ],
    });
  });

  it('keeps the scrape timeout within a short interval, as Prometheus requires', () => {
    const config = prometheusConfig({ scrapeIntervalSeconds: 2, targets: stackTargets });
    assert.equal(config.global.scrape_interval, '2s');
    assert.equal(config.global.scrape_timeout, '2s');
  });

  it('writes block YAML with every string quoted', () => {
    assert.equal(
      renderPrometheusConfig({ scrapeIntervalSeconds: 5, targets: [{ job: 'producer', targets: ['producer:9464'] }] }),
      [
        '# Rendered by infra/render/prometheus-config.ts; edits are overwritten on the next deploy.',
        'global:',
        '  scrape_interval: "5s"',
        '  scrape_timeout: "5s"',
        '  evaluation_interval: "5s"',
        'scrape_configs:',
        '  - job_name: "producer"',
        '    metrics_path: "/metrics"',
        '    scheme: "http"',
        '    static_configs:',
        '      - targets:',
        '          - "producer:9464"',
        '',
      ].join('\n'),
    );
  });

  it('names every problem in the arguments at once', () => {
    const problems = problemsOf(() =>
      renderPrometheusConfig({
        scrapeIntervalSeconds: 0,
        targets: [
          { job: 'producer', targets: ['producer'] },
          { job: 'producer', targets: ['producer:70000', 'a:1', 'a:1'] },
          { job: 'bad job', targets: [] },
        ],
      }),
    );
    const expected = [
      /scrapeIntervalSeconds=0/,
      /target "producer" is not host:port/,
      /job "producer" is listed twice/,
      /target "producer:70000" is not host:port/,
      /target "a:1" is listed twice/,
      /job "bad job" is not a valid job name/,
      /job "bad job" has no targets/,
    ];
    for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `no problem matches ${pattern}: ${problems.join('; ')}`);
    assert.equal(problems.length, expected.length, problems.join('; '));
  });

  it('refuses a config with nothing to scrape and a fractional interval', () => {
    assert.deepEqual(problemsOf(() => renderPrometheusConfig({ scrapeIntervalSeconds: 1.5, targets: [] })), [
      'scrapeIntervalSeconds=1.5 is not an integer in [1, 3600]',
      'targets is empty: there is nothing to scrape',
    ]);
  });
});

describe('toYaml', () => {
  it('quotes strings YAML 1.1 would otherwise read as booleans, numbers or maps', () => {
    assert.equal(toYaml({ a: 'no', b: 'on', c: '1e3', d: 'x: y', e: '# not a comment', f: 'line\nbreak' }), [
      'a: "no"', 'b: "on"', 'c: "1e3"', 'd: "x: y"', 'e: "# not a comment"', 'f: "line\\nbreak"', '',
    ].join('\n'));
  });

  it('writes nested lists, maps, empties and odd keys', () => {
    assert.equal(toYaml({ list: [{ k: 1, m: { n: true } }, 'x', [1, 2]], empty: [], none: {}, 'odd key': 1 }), [
      'list:',
      '  - k: 1',
      '    m:',
      '      n: true',
      '  - "x"',
      '  - - 1',
      '    - 2',
      'empty: []',
      'none: {}',
      '"odd key": 1',
      '',
    ].join('\n'));
  });

  it('refuses numbers YAML cannot hold', () => {
    assert.throws(() => toYaml({ n: Number.NaN }), /cannot write NaN as YAML/);
  });
});
