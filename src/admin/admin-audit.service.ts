import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { AuditEventDto, type AuditPageDto, type AuditQuery } from './dto/audit.dto';
import { PAGE_SIZE, pageOf } from './dto/page.dto';

/** GET /admin/audit: the trail, newest first (ids only grow), filtered by user and type. */
@Injectable()
export class AdminAuditService {
  constructor(private readonly prisma: PrismaService) {}

  async list({ userId, type, take = PAGE_SIZE.default, cursor }: AuditQuery): Promise<AuditPageDto> {
    const rows = await this.prisma.auditEvent.findMany({
      where: { userId, type, ...(cursor !== undefined && { id: { lt: BigInt(cursor) } }) },
      orderBy: { id: 'desc' },
      take: take + 1,
    });
    return pageOf(rows.map((event) => AuditEventDto.from(event)), take, (event) => event.id);
  }
}
