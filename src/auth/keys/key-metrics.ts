import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config/configuration';
import { MetricsService, sharedRead } from '../../metrics/metrics.service';
import { statusOf } from './signing-key';
import { SigningKeysRepository } from './signing-keys.repository';

/**
 * The signing keys as Prometheus sees them, read from the table when scraped: how many are
 * published and waiting (`next`) or signing, how long the signing key has signed, and, with
 * SIGNING_KEY_ROTATION, when the next key is due to be published (negative: overdue, the
 * scheduled rotation did not happen). deploy/prometheus/alerts.yml alerts on both.
 */
@Injectable()
export class KeyMetrics {
  constructor(keys: SigningKeysRepository, metrics: MetricsService, config: ConfigService<AppConfig, true>) {
    const auth = config.get('auth', { infer: true });
    const rotationMs = auth.signingKeyRotation * 1000;
    const leadMs = auth.signingKeyLead * 1000;
    const snapshot = sharedRead(async () => {
      const now = Date.now();
      const rows = (await keys.all()).filter((row) => !row.revokedAt);
      const count = (status: string) => rows.filter((row) => statusOf(row, now) === status).length;
      const started = rows.map((row) => row.activatesAt.getTime());
      const signing = Math.max(...started.filter((at) => at <= now));
      // As addSigningKey decides: due when the newest key started signing rotation − lead ago.
      const dueAt = Math.max(...started) + rotationMs - leadMs;
      return { next: count('next'), active: count('active'), signingFor: (now - signing) / 1000, dueIn: (dueAt - now) / 1000 };
    });
    metrics.watch(
      'auth_signing_keys',
      'Signing keys by status: next (published, not signing yet), active',
      async () => {
        const { next, active } = await snapshot();
        return { next, active };
      },
      'status',
    );
    metrics.watch('auth_signing_key_age_seconds', 'How long the key signing now has signed', async () => {
      const { signingFor } = await snapshot();
      return Number.isFinite(signingFor) ? { '': signingFor } : undefined;
    });
    if (rotationMs > 0) {
      metrics.watch(
        'auth_signing_key_rotation_due_seconds',
        'SIGNING_KEY_ROTATION: seconds until the next key is due to be published (negative: overdue)',
        async () => {
          const { dueIn } = await snapshot();
          return Number.isFinite(dueIn) ? { '': dueIn } : undefined;
        },
      );
    }
  }
}
