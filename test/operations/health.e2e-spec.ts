import type { Database } from '../../src/database/database';
import { DATABASE } from '../../src/database/database.constants';
import { Http } from '../support/http';
import { createTestDatabase } from '../support/test-database';
import { startApp, useApp } from '../support/test-app';

describe('operations: health, docs, restart', () => {
  const t = useApp();

  it('GET /health answers 200 with the database up', async () => {
    const res = await t.http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const json = await t.http.get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toContain('/health');
    const ui = await t.http.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });

  it('keeps its data across a restart on the same database', async () => {
    await t.server.prisma.user.create({ data: { email: 'kept@example.com', passwordHash: 'x' } });
    await t.restart();
    expect(await t.server.prisma.user.count({ where: { email: 'kept@example.com' } })).toBe(1);
    expect((await t.http.get('/health')).status).toBe(200);
  });

  it('answers 503 with the database down once the database is gone', async () => {
    const other = await createTestDatabase();
    const app = await startApp(other);
    try {
      // Close the database under the running server.
      await app.prisma.$disconnect();
      await app.app.get<Database>(DATABASE).close();
      const res = await new Http(app.baseUrl).get('/health');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'error', database: 'down' });
    } finally {
      await app.close().catch(() => undefined);
      await other.drop();
    }
  });
});
