import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { RevocationFeed } from './revocation-feed';

/**
 * The revocation feeds this instance serves. Relying parties trust their memory only
 * while heartbeats come, and this instance sends them only while its lease holds
 * (auth_revocation_listener_live): open feeds on an instance whose lease is out are
 * relying parties growing stale (deploy/prometheus/alerts.yml).
 */
@Injectable()
export class FeedMetrics {
  constructor(feed: RevocationFeed, metrics: MetricsService) {
    metrics.watch('auth_revocation_feed_streams', 'Revocation feeds (GET /auth/revocations) open on this instance', () => Promise.resolve({ '': feed.size }));
  }
}
