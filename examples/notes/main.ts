// The server of src/main.ts with the notes example mounted: your own main.ts looks like
// this, with your modules in extraImports. How to build and run it: examples/README.md.
import { createApp } from '../../src/app.factory';
import { stopGracefullyOnSignals } from '../../src/common/graceful-stop';
import { validateEnv } from '../../src/config/configuration';
import { NotesModule } from './notes.module';

async function main(): Promise<void> {
  try {
    process.loadEnvFile?.();
  } catch {
    // No .env file: the environment alone configures the server.
  }
  // Throws a ConfigValidationError naming every bad key: printed below, and the server stops.
  const config = validateEnv(process.env);
  const app = await createApp(config, { extraImports: [NotesModule] });
  await app.init();
  // As src/main.ts: SIGTERM/SIGINT answer the requests in flight, then exit 0.
  stopGracefullyOnSignals(app);
  await app.listen({ port: config.app.port, host: config.app.host });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
