import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { emailProblem, normalizeEmail } from './email';
import { isEmailTaken, UsersRepository, type StoredEmail as Row } from './users.repository';

/** A stored email whose spelling is not its normal form today. */
interface Move extends Row {
  target: string;
}

/**
 * Brings stored emails to today's normal form (`normalizeEmail`) at every start: rows
 * written under an older one (NFC only, one round: `H`+U+0331 where `ẖ` is now meant), or
 * under an older Unicode version of Node, would otherwise be out of reach of a login.
 * In JavaScript, because SQL cannot do it portably: `lower()` under the C locale only
 * lower-cases ASCII, and `normalize()` needs PostgreSQL 13 and a UTF-8 database.
 *
 * Accounts are never merged: when the new spelling is, or would be, another account's,
 * neither changes and one warning names all the user ids (not the emails: personal data
 * stays out of logs). An operator resolves it by deciding which account is the address's
 * owner and giving the other(s) a different email (or disabling them); the next start
 * then re-spells what is left. Safe with several instances starting together: each update
 * is conditional on the old spelling, and a unique violation is a collision.
 */
@Injectable()
export class EmailRespelling implements OnApplicationBootstrap {
  private readonly logger = new Logger(EmailRespelling.name);

  constructor(private readonly users: UsersRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    const moves = await this.candidates();
    const byTarget = new Map<string, Move[]>();
    for (const move of moves) byTarget.set(move.target, [...(byTarget.get(move.target) ?? []), move]);
    const ownerOf = await this.users.idsByEmail([...byTarget.keys()]);
    let respelled = 0;
    for (const [target, group] of byTarget) {
      const owner = ownerOf.get(target);
      if (group.length > 1 || owner !== undefined) this.warnCollision([owner, ...group.map((move) => move.id)]);
      else if (await this.respell(group[0])) respelled++;
    }
    if (respelled > 0) this.logger.log(`Re-spelled ${respelled} stored email(s) to the current normal form`);
  }

  /**
   * The rows whose email may not be in normal form: any with something but printable
   * ASCII, an upper-case ASCII letter or surrounding spaces (a sequential scan, once per
   * start); of those, the ones normalisation changes. Rows that today's rules would refuse
   * are reported: they cannot log in by email until an operator changes it.
   */
  private async candidates(): Promise<Move[]> {
    const rows = await this.users.emailsPossiblyNotNormal();
    const moves: Move[] = [];
    for (const row of rows) {
      const target = normalizeEmail(row.email);
      const problem = emailProblem(target);
      if (problem !== undefined) {
        this.logger.warn(`The stored email of user ${row.id} breaks today's rules (${problem}): it cannot log in until an operator changes it`);
      }
      if (target !== row.email) moves.push({ ...row, target });
    }
    return moves;
  }

  /** Whether this instance re-spelled the row (false: another instance did first). */
  private async respell(move: Move): Promise<boolean> {
    try {
      return await this.users.respell(move.id, move.email, move.target);
    } catch (error) {
      if (!isEmailTaken(error)) throw error;
      // Taken since the rows were read (a registration, or another instance's re-spelling).
      const owner = await this.users.findByEmail(move.target);
      this.warnCollision([owner?.id, move.id]);
      return false;
    }
  }

  private warnCollision(ids: Array<string | undefined>): void {
    const users = ids.filter((id): id is string => id !== undefined).join(', ');
    this.logger.warn(
      `Email collision: users ${users} have stored emails that are one address in the current normal form; ` +
        'none was changed or merged. Give all but one of them another email (or disable them); the next start re-spells the rest',
    );
  }
}
