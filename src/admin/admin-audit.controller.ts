import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse } from '@nestjs/swagger';
import { AdminOnly } from './admin-only.decorator';
import { AdminAuditService } from './admin-audit.service';
import { AuditPageDto, AuditQuery } from './dto/audit.dto';

/** /admin/audit (API.md, "Admin"). */
@AdminOnly()
@Controller('admin/audit')
export class AdminAuditController {
  constructor(private readonly audit: AdminAuditService) {}

  @Get()
  @ApiOkResponse({ type: AuditPageDto, description: 'Newest first' })
  @ApiBadRequestResponse({ description: 'Invalid filter, take or cursor' })
  list(@Query() query: AuditQuery): Promise<AuditPageDto> {
    return this.audit.list(query);
  }
}
