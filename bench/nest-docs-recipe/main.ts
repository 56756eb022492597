import { NestFactory } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { AppModule } from './app.module';

/**
 * Baseline 4 of the benchmark: the Nest docs' passport-jwt recipe on the default
 * (Express) adapter. Started by bench/run.js with PORT; it signs a token the way the
 * docs' AuthService.login does and hands it to the harness over the IPC channel.
 */
async function bootstrap() {
  const app = await NestFactory.create(AppModule);
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const accessToken = app.get(JwtService).sign({ username: 'john', sub: 1 });
  process.send?.({ ready: true, accessToken });
}

bootstrap().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
