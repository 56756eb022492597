import { Module } from '@nestjs/common';
import { AuthClientModule } from '@nest-auth-backend/client';
import { WhoamiController } from './whoami.controller';

/** Settings from the environment (see the README, "Protecting another NestJS service"). */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

@Module({
  imports: [
    AuthClientModule.forRootAsync({
      useFactory: () => ({
        issuer: required('AUTH_ISSUER'),
        audience: process.env.AUTH_AUDIENCE ?? 'nest-auth-backend',
        serverUrl: process.env.AUTH_SERVER_URL,
        clientId: required('AUTH_CLIENT_ID'),
        clientSecret: required('AUTH_CLIENT_SECRET'),
        maxStalenessMs: Number(process.env.AUTH_MAX_STALENESS_MS ?? 1000),
      }),
    }),
  ],
  controllers: [WhoamiController],
})
export class ProtectedServiceModule {}
