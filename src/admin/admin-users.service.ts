import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { SessionDto } from '../auth/sessions/session.dto';
import { UserSessionsService } from '../auth/sessions/user-sessions.service';
import { PrismaService } from '../database/prisma.service';
import type { Prisma } from '../generated/prisma/client';
import { UserDto } from '../users/user.dto';
import { PAGE_SIZE, pageOf } from './dto/page.dto';
import type { ListUsersQuery, UsersPageDto } from './dto/users.dto';

export const USER_NOT_FOUND = 'User not found';

/** Prisma's `contains` becomes ILIKE '%…%' without escaping: `_` and `%` must match themselves. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, '\\$&');

/** What the admin API reads about users: the list and their sessions. */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly userSessions: UserSessionsService,
  ) {}

  /**
   * Newest first, by (createdAt, id) — id breaks ties, so the order is total and a page
   * boundary never skips or repeats a user. Keyset pagination: the cursor is the last
   * user shown, and the next page is what sorts after it, however many rows came before.
   */
  async list({ email, take = PAGE_SIZE.default, cursor }: ListUsersQuery): Promise<UsersPageDto> {
    const where: Prisma.UserWhereInput[] = [];
    if (email) where.push({ email: { contains: likeLiteral(email), mode: 'insensitive' } });
    if (cursor) {
      const after = await this.prisma.user.findUnique({ where: { id: cursor }, select: { id: true, createdAt: true } });
      if (!after) throw new BadRequestException(['cursor does not match any user']);
      where.push({ OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] });
    }
    const rows = await this.prisma.user.findMany({
      where: { AND: where },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: take + 1,
    });
    return pageOf(rows.map((user) => UserDto.from(user)), take, (user) => user.id);
  }

  async sessions(userId: string): Promise<SessionDto[]> {
    const user = await this.prisma.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (!user) throw new NotFoundException(USER_NOT_FOUND);
    return this.userSessions.list(userId);
  }
}
