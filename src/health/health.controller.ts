import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/decorators/public.decorator';
import { DatabaseHealthIndicator } from './database.health';

/** Both answers of GET /health: `{ status: 'ok', database: 'up' }` or `{ status: 'error', database: 'down' }`. */
class HealthDto {
  @ApiProperty({ enum: ['ok', 'error'] }) status!: 'ok' | 'error';
  @ApiProperty({ enum: ['up', 'down'] }) database!: 'up' | 'down';
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  /** Liveness and readiness in one: 200 while the database answers, 503 otherwise. */
  @Public()
  @Get()
  @ApiOkResponse({ type: HealthDto, description: '`{ status: "ok", database: "up" }`' })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The database is unreachable: `{ status: "error", database: "down" }`' })
  async check(): Promise<HealthDto> {
    try {
      await this.health.check([() => this.database.isHealthy('database')]);
      return { status: 'ok', database: 'up' };
    } catch {
      throw new ServiceUnavailableException({ status: 'error', database: 'down' });
    }
  }
}
