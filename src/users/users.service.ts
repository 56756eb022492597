import { Injectable } from '@nestjs/common';
import type { Tx } from '../database/tx';
import { announce, type ChannelNotice } from '../events/channel';
import { OnEvent } from '../events/event-bus';
import type { User } from '../generated/prisma/client';
import { PROFILE_CHANGED } from './profile-changed';
import { UserDto } from './user.dto';
import { UsersRepository, type Profile } from './users.repository';

/** Profiles kept in memory for GET /auth/me. */
const PROFILE_CACHE_SIZE = 10_000;
/**
 * How long an unverified profile is trusted before it is read again (in the background):
 * another instance may verify the address meanwhile (the instance that verifies it
 * forgets the profile at once).
 */
const UNVERIFIED_PROFILE_TTL_MS = 10_000;

interface CachedProfile {
  profile: Profile;
  /** Unverified profiles only: read again after this (ms). Verified never goes back. */
  freshUntil?: number;
}

/** The user as GET /auth/me shows it, with no database round trip for a known user. */
@Injectable()
export class UsersService {
  /**
   * id → the parts of a user that never change through this API (email, name, createdAt,
   * and emailVerified once it is true: it never goes back; an unverified profile is kept
   * UNVERIFIED_PROFILE_TTL_MS), so that an authenticated GET /auth/me needs no database
   * round trip. Role and the disabled flag are not cached: the role comes from the
   * revocation state (the database's truth, propagated), and a disabled user has no valid
   * token left. A Map iterates in insertion order: re-inserting on use makes it an LRU.
   */
  private readonly profiles = new Map<string, CachedProfile>();
  private readonly revalidating = new Set<string>();

  constructor(private readonly users: UsersRepository) {}

  /** The user as GET /auth/me shows it, for a caller whose token was just verified. */
  async me(userId: string, role: User['role']): Promise<UserDto | null> {
    const cached = this.profiles.get(userId);
    let profile: Profile | null;
    if (cached) {
      // Served from memory, always: a stale unverified profile is read again in the
      // background (stale-while-revalidate), so GET /auth/me never waits on the database
      // for a known user, not even while the database is slow or away.
      this.profiles.delete(userId);
      this.profiles.set(userId, cached);
      if (cached.freshUntil !== undefined && Date.now() >= cached.freshUntil) this.revalidate(userId);
      profile = cached.profile;
    } else {
      profile = await this.users.profile(userId);
      if (profile) this.remember(profile);
    }
    if (!profile) return null;
    return UserDto.from({ ...profile, role, disabled: false });
  }

  /** One background read per user at a time; a failure leaves the profile as it was (tried again on next use). */
  private revalidate(userId: string): void {
    if (this.revalidating.has(userId)) return;
    this.revalidating.add(userId);
    this.users
      .profile(userId)
      .then((profile) => profile && this.profiles.has(userId) && this.remember(profile))
      .catch(() => undefined)
      .finally(() => this.revalidating.delete(userId));
  }

  /** Caches a user just read or written elsewhere (login, register, refresh). */
  remember(user: Profile): void {
    const profile = { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt, emailVerified: user.emailVerified };
    this.profiles.delete(user.id);
    this.profiles.set(user.id, { profile, freshUntil: user.emailVerified ? undefined : Date.now() + UNVERIFIED_PROFILE_TTL_MS });
    if (this.profiles.size > PROFILE_CACHE_SIZE) this.profiles.delete(this.profiles.keys().next().value!);
  }

  /** Drops a profile that changed here (the address was just verified). */
  forget(userId: string): void {
    this.profiles.delete(userId);
  }

  /**
   * In `tx`, a change of what this cache holds as unchanging (the email changed, the account
   * was deleted): every instance drops the profile once `tx` commits (PROFILE_CHANGED on the
   * channel); the caller forgets it here too (PGlite has no channel).
   */
  async changed(tx: Tx, userId: string): Promise<void> {
    await announce(tx, { kind: PROFILE_CHANGED, userId });
  }

  @OnEvent('channel.notice')
  noticeHeard(notice: ChannelNotice): void {
    if (notice.kind === PROFILE_CHANGED) this.forget(notice.userId);
  }

  /** A notice may have been missed while the channel was down: nothing cached is trusted. */
  @OnEvent('channel.resynced')
  resynced(): void {
    this.profiles.clear();
  }
}
