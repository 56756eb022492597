import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Headers, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../auth/decorators/public.decorator';
import type { AppConfig } from '../config/configuration';
import { MetricsService } from '../metrics/metrics.service';

/**
 * GET /metrics, Prometheus text format. Off unless METRICS_TOKEN is set (then 404, as if
 * the route did not exist); on, it needs `Authorization: Bearer <METRICS_TOKEN>`: the
 * figures tell an outsider how busy the server is and when it fails over. Not in the API
 * document: it is for operators, not clients.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const token = config.get('app.metricsToken', { infer: true });
    this.token = token ? Buffer.from(token) : undefined;
  }

  @Public()
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (!this.token) throw new NotFoundException('Cannot GET /metrics');
    const given = Buffer.from(/^Bearer (.+)$/.exec(authorization ?? '')?.[1] ?? '');
    if (given.length !== this.token.length || !timingSafeEqual(given, this.token)) throw new UnauthorizedException('Missing or wrong metrics token');
    return this.metrics.registry.metrics();
  }
}
