import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { DatabaseHealthIndicator } from './database.health';

@Module({
  imports: [TerminusModule],
  controllers: [HealthController, MetricsController],
  providers: [DatabaseHealthIndicator],
})
export class HealthModule {}
