import { Module } from '@nestjs/common';
import { AuthClientModule } from '@nest-auth-backend/client';
import { WhoamiController } from './whoami.controller';

/** What each setting is, for the line that stops the start without it. */
const MEANING: Record<string, string> = {
  AUTH_ISSUER: "the auth server's JWT_ISSUER, by default its APP_URL",
  AUTH_CLIENT_ID: "this service's client id, from POST /admin/clients on the auth server",
  AUTH_CLIENT_SECRET: 'its secret, shown once by POST /admin/clients',
};

/** Settings from the environment (examples/README.md); AuthClientModule checks what they hold. */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required (${MEANING[name]})`);
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
        maxStalenessMs: process.env.AUTH_MAX_STALENESS_MS === undefined ? undefined : Number(process.env.AUTH_MAX_STALENESS_MS),
      }),
    }),
  ],
  controllers: [WhoamiController],
})
export class ProtectedServiceModule {}
