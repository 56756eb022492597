import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AuditEventDto, type AuditPageDto, type AuditQuery } from './dto/audit.dto';
import { PAGE_SIZE, pageOf } from './dto/page.dto';

/** GET /admin/audit: the trail, newest first, filtered by user and type. */
@Injectable()
export class AdminAuditService {
  constructor(private readonly audit: AuditService) {}

  async list({ userId, type, take = PAGE_SIZE.default, cursor }: AuditQuery): Promise<AuditPageDto> {
    const rows = await this.audit.page({ userId, type, beforeId: cursor === undefined ? undefined : BigInt(cursor), take: take + 1 });
    return pageOf(rows.map((event) => AuditEventDto.from(event)), take, (event) => event.id);
  }
}
