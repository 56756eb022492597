import { Injectable } from '@nestjs/common';
import type { User } from '../generated/prisma/client';
import { UserDto } from './user.dto';
import { UsersRepository, type Profile } from './users.repository';

/** Profiles kept in memory for GET /auth/me. */
const PROFILE_CACHE_SIZE = 10_000;

/** The user as GET /auth/me shows it, with no database round trip for a known user. */
@Injectable()
export class UsersService {
  /**
   * id → the parts of a user that never change through this API (email, name, createdAt,
   * and emailVerified once it is true: it never goes back, so only verified users are kept),
   * so that an authenticated GET /auth/me needs no database round trip. Role and the
   * disabled flag are not cached: the role comes from the revocation state (the
   * database's truth, propagated), and a disabled user has no valid token left.
   * A Map iterates in insertion order: re-inserting on use makes it an LRU.
   */
  private readonly profiles = new Map<string, Profile>();

  constructor(private readonly users: UsersRepository) {}

  /** The user as GET /auth/me shows it, for a caller whose token was just verified. */
  async me(userId: string, role: User['role']): Promise<UserDto | null> {
    let profile = this.profiles.get(userId);
    if (profile) this.profiles.delete(userId);
    else profile = (await this.users.profile(userId)) ?? undefined;
    if (!profile) return null;
    this.remember(profile);
    return UserDto.from({ ...profile, role, disabled: false });
  }

  /** Caches a user just read or written elsewhere (login, register, refresh). */
  remember(user: Profile): void {
    // Unverified: read each time, since another instance may verify the address.
    if (!user.emailVerified) return;
    this.profiles.set(user.id, { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt, emailVerified: true });
    if (this.profiles.size > PROFILE_CACHE_SIZE) this.profiles.delete(this.profiles.keys().next().value!);
  }
}
