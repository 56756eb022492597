import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { UsersRepository } from '../users/users.repository';
import { AdminAuditEventDto, AuditEventDto, type AuditPageDto, type AuditQuery } from './dto/audit.dto';
import { PAGE_SIZE, pageOf } from './dto/page.dto';

/** GET /admin/audit: the trail, newest first, filtered by user and type, with who by email. */
@Injectable()
export class AdminAuditService {
  constructor(
    private readonly audit: AuditService,
    private readonly users: UsersRepository,
  ) {}

  async list({ userId, type, take = PAGE_SIZE.default, cursor }: AuditQuery): Promise<AuditPageDto> {
    const rows = await this.audit.page({ userId, type, beforeId: cursor === undefined ? undefined : BigInt(cursor), take: take + 1 });
    const page = pageOf(
      rows.map((event) => AuditEventDto.from(event)),
      take,
      (event) => event.id,
    );
    // One query for the page's people, whoever they are (at most 2 × take ids).
    const ids = new Set(page.items.flatMap((event) => [event.userId, event.actorId]).filter((id): id is string => id !== null));
    const emails = await this.users.emailsOf([...ids]);
    return { ...page, items: page.items.map((event) => AdminAuditEventDto.withEmails(event, emails)) };
  }
}
