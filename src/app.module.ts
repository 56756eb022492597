import { DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { AppConfig } from './config/configuration';
import { AdminModule } from './admin/admin.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { MfaModule } from './auth/mfa/mfa.module';
import { PasskeysModule } from './auth/passkeys/passkeys.module';
import { OidcModule } from './auth/oidc/oidc.module';
import type { Logger as PinoLogger } from 'pino';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MetricsModule } from './metrics/metrics.module';
import { OutboxModule } from './outbox/outbox.module';

export interface AppModuleOptions {
  /** Where log lines go (default: stdout). Tests pass a stream to read them. */
  logDestination?: NodeJS.WritableStream;
  /** The root logger (createApp makes it from the configuration and logDestination). */
  logger?: PinoLogger;
  /** More modules to mount (the benchmark's baseline routes live in bench/, never in src/). */
  extraImports?: NonNullable<ModuleMetadata['imports']>;
  /** Where the built console is (default dist/console-ui); the browser spec builds one of its own. */
  consoleDir?: string;
}

@Module({})
export class AppModule {
  /** The whole application for a validated configuration (see `validateEnv`). */
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        DatabaseModule,
        EventsModule,
        AuditModule,
        OutboxModule,
        AuthModule,
        MfaModule,
        PasskeysModule,
        OidcModule,
        AdminModule,
        HealthModule,
        MaintenanceModule,
        MetricsModule,
        ...(options.extraImports ?? []),
      ],
    };
  }
}
