/**
 * The few raw-SQL needs that sit below Prisma: applying migrations (multi-statement
 * scripts, a session-level advisory lock) and LISTEN/NOTIFY. Both drivers implement it
 * with their own native client, so one code path serves PGlite and PostgreSQL.
 */
export interface SqlClient {
  /** One parameterised statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A script of several statements, no parameters. */
  exec(sql: string): Promise<void>;
}
