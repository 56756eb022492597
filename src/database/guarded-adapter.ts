import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, SqlQueryable, Transaction } from '@prisma/driver-adapter-utils';
import type { DiskGuard } from './disk-guard';

/**
 * The embedded database's Prisma driver adapter, every statement through its DiskGuard:
 * a write only while DATA_DIR keeps its reserve of free space, nothing once PGlite
 * stopped at a PANIC. The adapter's own errors pass unchanged.
 */
export function guardedAdapter(factory: SqlDriverAdapterFactory, guard: DiskGuard): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => guardedConnection(await factory.connect(), guard),
  };
}

function guardedQueries(inner: SqlQueryable, guard: DiskGuard): SqlQueryable {
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: (query: SqlQuery) => guard.run(query.sql, () => inner.queryRaw(query)),
    executeRaw: (query: SqlQuery) => guard.run(query.sql, () => inner.executeRaw(query)),
  };
}

function guardedConnection(inner: SqlDriverAdapter, guard: DiskGuard): SqlDriverAdapter {
  return {
    ...guardedQueries(inner, guard),
    executeScript: (script) => guard.run(script, () => inner.executeScript(script)),
    startTransaction: async (isolationLevel) => guardedTransaction(await guard.run('BEGIN', () => inner.startTransaction(isolationLevel)), guard),
    getConnectionInfo: inner.getConnectionInfo?.bind(inner),
    dispose: () => inner.dispose(),
  };
}

function guardedTransaction(inner: Transaction, guard: DiskGuard): Transaction {
  const savepoint = (method: 'createSavepoint' | 'rollbackToSavepoint' | 'releaseSavepoint') =>
    inner[method] && ((name: string) => guard.run('SAVEPOINT', () => inner[method]!(name)));
  return {
    ...guardedQueries(inner, guard),
    options: inner.options,
    commit: () => guard.run('COMMIT', () => inner.commit()),
    rollback: () => guard.run('ROLLBACK', () => inner.rollback()),
    createSavepoint: savepoint('createSavepoint'),
    rollbackToSavepoint: savepoint('rollbackToSavepoint'),
    releaseSavepoint: savepoint('releaseSavepoint'),
  };
}
