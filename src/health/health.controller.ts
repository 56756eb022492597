import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { Public } from '../auth/decorators/public.decorator';
import { DatabaseHealthIndicator, type DownReason } from './database.health';

/**
 * Both answers of GET /health: `{ status: 'ok', database: 'up' }` or `{ status: 'error',
 * database: 'down' }`, with a `reason` when the database answers but refuses writes.
 */
class HealthDto {
  @ApiProperty({ enum: ['ok', 'error'] }) status!: 'ok' | 'error';
  @ApiProperty({ enum: ['up', 'down'] }) database!: 'up' | 'down';
  @ApiPropertyOptional({
    enum: ['disk full', 'restart needed'],
    description:
      "Why the database is down although it answers. `disk full`: writes are refused until space is freed on the embedded database's disk (no restart needed); `restart needed`: the embedded database stopped at a PANIC",
  })
  reason?: DownReason;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  /** Liveness and readiness in one: 200 while the database answers (and the embedded one takes writes), 503 otherwise. */
  @Public()
  @Get()
  @ApiOkResponse({ type: HealthDto, description: '`{ status: "ok", database: "up" }`' })
  @ApiServiceUnavailableResponse({
    type: HealthDto,
    description:
      'The database is unreachable: `{ status: "error", database: "down" }`; it refuses writes: `{ status: "error", database: "down", reason: "disk full" }`',
  })
  async check(): Promise<HealthDto> {
    try {
      await this.health.check([() => this.database.isHealthy('database')]);
      return { status: 'ok', database: 'up' };
    } catch (error) {
      const result = error instanceof ServiceUnavailableException ? (error.getResponse() as HealthCheckResult) : undefined;
      const reason = result?.error?.database?.reason as DownReason | undefined;
      throw new ServiceUnavailableException({ status: 'error', database: 'down', ...(reason && { reason }) });
    }
  }
}
