import { createApp } from './app.factory';
import { ConfigValidationError, validateEnv } from './config/configuration';

async function bootstrap(): Promise<void> {
  try {
    process.loadEnvFile?.();
  } catch {
    // No .env file: the environment alone configures the server.
  }
  let config;
  try {
    config = validateEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen({ port: config.app.port, host: config.app.host });
}

bootstrap().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
