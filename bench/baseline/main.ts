// The app as src/main.ts starts it, plus the benchmark's baseline routes (GET /bench/ping,
// GET /bench/me-db). Compiled by bench/run.js into bench/baseline/dist; never part of the product.
import { createApp } from '../../src/app.factory';
import { validateEnv } from '../../src/config/configuration';
import { BaselineModule } from './baseline.module';

async function main(): Promise<void> {
  const config = validateEnv(process.env);
  const app = await createApp(config, { extraImports: [BaselineModule] });
  await app.listen({ port: config.app.port, host: config.app.host });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
