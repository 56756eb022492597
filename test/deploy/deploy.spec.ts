import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigService } from '@nestjs/config';
import type { SigningKeysRepository } from '../../src/auth/keys/signing-keys.repository';
import { KeyMetrics } from '../../src/auth/keys/key-metrics';
import { FeedMetrics } from '../../src/clients/feed-metrics';
import type { RevocationFeed } from '../../src/clients/revocation-feed';
import { MetricsService } from '../../src/metrics/metrics.service';
import { OutboxMetrics } from '../../src/outbox/outbox-metrics';
import type { OutboxRepository } from '../../src/outbox/outbox.repository';

// What deploy/ ships, checked without a container: the alerting rules by promtool (their
// unit tests included), every series the rules and the dashboard name against what the
// server exports, compose.yaml's shape, and the Dockerfile's promises. .ci/image-smoke
// builds and runs the image itself.

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
// js-yaml is in the tree (through the Swagger and Babel toolchains) and has no types of its own.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { load(text: string): unknown };

const promtool = spawnSync('promtool', ['--version']).status === 0;
if (!promtool) console.warn('The promtool checks of deploy/prometheus are SKIPPED: no promtool (apt-get install prometheus)');

describe('deploy/prometheus/alerts.yml', () => {
  /* eslint-disable jest/no-standalone-expect -- the test block is `it` or `it.skip`, as promtool is there or not */
  const run = (...args: string[]) => spawnSync('promtool', args, { cwd: join(ROOT, 'deploy', 'prometheus'), encoding: 'utf8' });

  (promtool ? it : it.skip)('passes promtool check rules', () => {
    const result = run('check', 'rules', 'alerts.yml');
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  (promtool ? it : it.skip)('passes its unit tests (promtool test rules): each alert fires, and not on the healthy series', () => {
    const result = run('test', 'rules', 'alerts.test.yml');
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });

  /* eslint-enable jest/no-standalone-expect */

  it('tests every alert it defines, firing and not firing', () => {
    const rules = yaml.load(read('deploy/prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ alert: string }> }> };
    const tests = yaml.load(read('deploy/prometheus/alerts.test.yml')) as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules.groups.flatMap((g) => g.rules)) {
      expect({ alert, fires: cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0) }).toEqual({ alert, quiet: true });
    }
  });
});

/** The names the server's /metrics can show: every metric registered (all the watchers), and a histogram's series. */
function exportedSeries(): Set<string> {
  const metrics = new MetricsService();
  metrics.watchRevocation({ live: () => true, leaseAgeMs: () => 0, windowEntries: () => 0 });
  metrics.watchVerifiedTokens(() => 0);
  new OutboxMetrics({} as OutboxRepository, metrics);
  const config = { get: () => ({ signingKeyRotation: 86_400, signingKeyLead: 600 }) } as unknown as ConfigService<never, true>;
  new KeyMetrics({} as SigningKeysRepository, metrics, config);
  new FeedMetrics({ size: 0 } as RevocationFeed, metrics);
  const names = new Set(['up']);
  // A relying party's own series, as the example protected service writes them.
  for (const [name] of read('examples/protected-service/whoami.controller.ts').matchAll(/\bauth_client_\w+/g)) names.add(name);
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

const PROMQL_WORDS = new Set(
  'sum min max avg count rate increase delta irate histogram_quantile vector by without on ignoring group_left group_right and or unless offset bool'.split(
    ' ',
  ),
);

/** The series names a PromQL expression reads: its identifiers, less label matchers, grouping labels, functions and keywords. */
function seriesOf(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][\w:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word));
}

describe('the series the alerts and the dashboard read', () => {
  const exported = exportedSeries();

  it('are series the server exports (a renamed metric fails here, not silently in production)', () => {
    const rules = yaml.load(read('deploy/prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const dashboard = JSON.parse(read('deploy/grafana/nest-auth-backend.json')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
    ];
    expect(exprs.length).toBeGreaterThan(20);
    for (const { where, expr } of exprs) {
      const series = seriesOf(expr);
      expect({ where, reads: series.length > 0 }).toEqual({ where, reads: true });
      expect({ where, unknown: series.filter((name) => !exported.has(name)) }).toEqual({ where, unknown: [] });
    }
  });

  it('the check sees a name that is not exported', () => {
    expect(seriesOf('sum by (route) (rate(http_request_duration_seconds_count{status="429"}[5m])) > 1')).toEqual(['http_request_duration_seconds_count']);
    expect(seriesOf('auth_revocation_feed_streams > 0 and on (instance) auth_revocation_listener_live == 0')).toEqual([
      'auth_revocation_feed_streams',
      'auth_revocation_listener_live',
    ]);
    expect(exported.has('auth_revocation_listener_lives')).toBe(false);
  });
});

describe('compose.yaml', () => {
  type Service = {
    image?: string;
    build?: string | { context: string; dockerfile: string };
    environment?: Record<string, string>;
    read_only?: boolean;
    volumes?: string[];
  };
  const compose = yaml.load(read('compose.yaml')) as { services: Record<string, Service> };

  it('runs PostgreSQL, two instances behind a reverse proxy, the protected service and a mail catcher', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'auth-1', 'auth-2', 'proxy', 'protected-service', 'mailpit']));
    const caddy = read('deploy/compose/Caddyfile');
    expect(caddy).toMatch(/reverse_proxy auth-1:3000 auth-2:3000/);
  });

  it('gives both instances one AUTH_SECRET, one APP_URL and one database, a read-only root and a DATA_DIR volume each', () => {
    const [a, b] = [compose.services['auth-1'], compose.services['auth-2']];
    for (const key of ['AUTH_SECRET', 'APP_URL', 'DATABASE_URL', 'TRUST_PROXY']) expect(a.environment?.[key]).toBe(b.environment?.[key]);
    expect(a.environment?.AUTH_SECRET).toMatch(/^\$\{AUTH_SECRET:\?/);
    expect([a.read_only, b.read_only]).toEqual([true, true]);
    expect([a.volumes, b.volumes]).toEqual([['auth-1-data:/data'], ['auth-2-data:/data']]);
  });

  it('names files that exist', () => {
    const mounted = Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .filter((v) => v.startsWith('./'))
      .map((v) => v.split(':')[0]);
    const built = Object.values(compose.services).flatMap((s) => (typeof s.build === 'object' ? [s.build.dockerfile] : s.build ? ['Dockerfile'] : []));
    expect(mounted.length + built.length).toBeGreaterThan(3);
    for (const file of [...mounted, ...built]) expect({ file, exists: existsSync(join(ROOT, file)) }).toEqual({ file, exists: true });
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds on the official Node 24 image unless told otherwise, runs as a user that is not root, under tini, with a HEALTHCHECK', () => {
    expect(dockerfile).toMatch(/^ARG BASE=node:24-bookworm-slim$/m);
    const users = [...dockerfile.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users).toEqual(['auth']);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
  });

  it('bakes no secret in: no setting that holds one is given a value', () => {
    const env = [...dockerfile.matchAll(/^(?:ENV|ARG)\s[\s\S]*?(?<!\\)$/gm)].join('\n');
    for (const secret of ['AUTH_SECRET', 'JWT_ACCESS_SECRET', 'DATABASE_URL', 'SMTP_URL', 'METRICS_TOKEN', 'ADMIN_PASSWORD']) expect(env).not.toContain(secret);
  });
});
