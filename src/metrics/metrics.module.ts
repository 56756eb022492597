import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/** The Prometheus registry, for every module that counts something; served by HealthModule at /metrics. */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
