import { openDatabase } from '../../src/database/database';
import type { SqlClient } from '../../src/database/sql-client';
import type { TestDatabase } from './test-database';

/**
 * Runs raw SQL against a test database from the spec itself, below the app: a direct
 * connection to PostgreSQL (never through a spec's proxy), or the PGlite directory
 * opened in this process. PGlite is one process's database: open it only while no
 * server has it open.
 */
export async function inspectDatabase<T>(db: TestDatabase, fn: (sql: SqlClient) => Promise<T>): Promise<T> {
  const database = await openDatabase({ url: db.env.DATABASE_URL, dataDir: db.env.DATA_DIR, poolSize: 1 });
  try {
    return await database.withConnection(fn);
  } finally {
    await database.close();
  }
}

/** What the integrity checks of the resilience specs look at, for every session. */
export interface SessionFacts {
  id: string;
  user_id: string;
  refresh_token_hash: string;
  generation: number;
  revoked_at: Date | null;
  revoked_reason: string | null;
  /** Rows in rotated_refresh_tokens for the session. */
  rotated: number;
  /** token.refreshed audit events written by a rotation (not the concurrent replays). */
  rotations_audited: number;
  /** login.succeeded / user.registered audit events naming the session. */
  openings_audited: number;
}

export async function sessionFacts(sql: SqlClient): Promise<SessionFacts[]> {
  return sql.query<SessionFacts>(`
    SELECT s.id, s.user_id, s.refresh_token_hash, s.generation, s.revoked_at, s.revoked_reason::text AS revoked_reason,
           (SELECT count(*)::int FROM rotated_refresh_tokens r WHERE r.session_id = s.id) AS rotated,
           (SELECT count(*)::int FROM audit_events a
             WHERE a.session_id = s.id AND a.type = 'token.refreshed'
               AND NOT coalesce((a.data->>'concurrent')::boolean, false)) AS rotations_audited,
           (SELECT count(*)::int FROM audit_events a
             WHERE a.session_id = s.id AND a.type IN ('login.succeeded', 'user.registered')) AS openings_audited
      FROM sessions s`);
}

/**
 * The invariants every write path keeps, whatever failed in between (all in one
 * transaction each): a user has its password hash, a session its user and exactly one
 * audit event that opened it, a rotation its rotated_refresh_tokens row and its audit
 * event, and no refresh token hash is both current and rotated away. Returns the list
 * of violations (empty when consistent).
 */
export async function integrityViolations(sql: SqlClient): Promise<string[]> {
  const problems: string[] = [];
  const [{ n: orphans }] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL');
  if (orphans) problems.push(`${orphans} session(s) without a user`);
  const [{ n: hashless }] = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM users WHERE password_hash IS NULL OR password_hash NOT LIKE '$argon2id$%'",
  );
  if (hashless) problems.push(`${hashless} user(s) without a password hash`);
  const [{ n: sessionless }] = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users u
      WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)
        AND EXISTS (SELECT 1 FROM audit_events a WHERE a.user_id = u.id AND a.type = 'user.registered')`,
  );
  if (sessionless) problems.push(`${sessionless} registered user(s) without their first session`);
  const [{ n: unregistered }] = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM users u
      WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.user_id = u.id AND a.type = 'user.registered')`,
  );
  if (unregistered) problems.push(`${unregistered} user(s) without their user.registered event`);
  const [{ n: both }] = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sessions s JOIN rotated_refresh_tokens r ON r.token_hash = s.refresh_token_hash',
  );
  if (both) problems.push(`${both} refresh token hash(es) both current and rotated away`);
  const [{ n: dupes }] = await sql.query<{ n: number }>('SELECT (count(*) - count(DISTINCT refresh_token_hash))::int AS n FROM sessions');
  if (dupes) problems.push(`${dupes} session(s) sharing a refresh token hash`);
  for (const s of await sessionFacts(sql)) {
    if (s.openings_audited !== 1) problems.push(`session ${s.id}: ${s.openings_audited} opening audit events`);
    if (s.rotated !== s.generation) problems.push(`session ${s.id}: generation ${s.generation} but ${s.rotated} rotated tokens`);
    if (s.rotations_audited !== s.generation) {
      problems.push(`session ${s.id}: generation ${s.generation} but ${s.rotations_audited} rotations audited`);
    }
  }
  return problems;
}
