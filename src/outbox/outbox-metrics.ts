import { Injectable } from '@nestjs/common';
import { MetricsService, sharedRead } from '../metrics/metrics.service';
import { OutboxRepository } from './outbox.repository';

/**
 * The outbox as Prometheus sees it, read from the table when scraped: the same figures on
 * every instance (the outbox is shared), so alerts take their max. deploy/prometheus/alerts.yml
 * watches the backlog (a due row waiting: no worker delivers) and failures (a retry
 * schedule spent).
 */
@Injectable()
export class OutboxMetrics {
  constructor(outbox: OutboxRepository, metrics: MetricsService) {
    const backlog = sharedRead(() => outbox.backlog());
    metrics.watch(
      'auth_outbox_deliveries',
      'Outbox rows by status: pending (due or waiting for a retry), failed (kept until the cleanup)',
      async () => {
        const { pending, failed } = await backlog();
        return { pending, failed };
      },
      'status',
    );
    metrics.watch('auth_outbox_oldest_due_seconds', 'How long the oldest due delivery has waited for a worker (0: none is due)', async () => ({
      '': (await backlog()).oldestDueSeconds,
    }));
  }
}
