import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { ApiDatabase, ApiErrors } from '../common/api-docs';
import { AdminOnly } from './admin-only.decorator';
import { AdminAuditService } from './admin-audit.service';
import { AuditPageDto, AuditQuery } from './dto/audit.dto';

/** /admin/audit (API.md, "Admin"). 401 and 403 on each route: see AdminUsersController. */
@AdminOnly()
@ApiDatabase()
@Controller('admin/audit')
export class AdminAuditController {
  constructor(private readonly audit: AdminAuditService) {}

  @Get()
  @ApiOkResponse({ type: AuditPageDto, description: 'Newest first' })
  @ApiErrors(401, 403, { 400: 'Invalid filter, take or cursor' })
  list(@Query() query: AuditQuery): Promise<AuditPageDto> {
    return this.audit.list(query);
  }
}
