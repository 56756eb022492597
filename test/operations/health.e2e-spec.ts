import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { Http } from '../support/http';
import { startApp, type TestApp } from '../support/test-app';

describe('operations: health, docs, restart', () => {
  let db: TestDatabase;
  let server: TestApp;
  let http: Http;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp(db);
    http = new Http(server.baseUrl);
  });
  afterAll(async () => {
    await server.close();
    await db.drop();
  });

  it('GET /health answers 200 with the database up', async () => {
    const res = await http.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const json = await http.get('/docs-json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toContain('/health');
    const ui = await http.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });

  it('keeps its data across a restart on the same database', async () => {
    await server.prisma.user.create({ data: { email: 'kept@example.com', passwordHash: 'x' } });
    await server.close();
    server = await startApp(db);
    http = new Http(server.baseUrl);
    expect(await server.prisma.user.count({ where: { email: 'kept@example.com' } })).toBe(1);
    expect((await http.get('/health')).status).toBe(200);
  });

  it('answers 503 with the database down once the database is gone', async () => {
    const other = await createTestDatabase();
    const app = await startApp(other);
    try {
      // Close the database under the running server.
      await app.prisma.$disconnect();
      await (app.app.get(require('../../src/database/database.constants').DATABASE) as { close(): Promise<void> }).close();
      const res = await new Http(app.baseUrl).get('/health');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'error', database: 'down' });
    } finally {
      await app.close().catch(() => undefined);
      await other.drop();
    }
  });
});
