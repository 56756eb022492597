import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminOnly } from '../../src/admin/admin-only.decorator';
import type { AuthUser } from '../../src/auth/auth-user';
import { CurrentUser } from '../../src/auth/decorators/current-user.decorator';
import { Public } from '../../src/auth/decorators/public.decorator';
import { CreateNoteDto, NoteDto, NotesCountDto } from './notes.dto';
import { NotesService } from './notes.service';

/**
 * The app's guards are global (deny by default): a route of a mounted module needs a valid
 * access token, revocation checked, unless it says otherwise. This controller imports no
 * guard and no auth module; it only says who may call what.
 */
@ApiTags('examples')
@Controller('examples/notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  /** Anyone, with or without a token: nothing here belongs to anybody. */
  @Public()
  @ApiOkResponse({ type: NotesCountDto })
  @Get('public')
  count(): NotesCountDto {
    return { total: this.notes.count() };
  }

  /** Any signed-in user; `@CurrentUser()` is the verified caller, never a client-supplied id. */
  @ApiBearerAuth()
  @ApiOkResponse({ type: [NoteDto], description: 'The caller’s notes, oldest first' })
  @ApiUnauthorizedResponse({ description: 'No valid access token' })
  @Get('mine')
  mine(@CurrentUser() me: AuthUser): NoteDto[] {
    return this.notes.ofOwner(me.id).map((note) => NoteDto.from(note));
  }

  @ApiBearerAuth()
  @ApiCreatedResponse({ type: NoteDto })
  @ApiBadRequestResponse({ description: 'Invalid body, or a field that does not exist' })
  @ApiUnauthorizedResponse({ description: 'No valid access token' })
  @Post()
  add(@CurrentUser() me: AuthUser, @Body() body: CreateNoteDto): NoteDto {
    return NoteDto.from(this.notes.add(me.id, body.text));
  }

  /** Role ADMIN, the caller's current role: 401 without a valid token, 403 for a USER. */
  @AdminOnly()
  @ApiOkResponse({ type: [NoteDto], description: 'Every user’s notes, oldest first' })
  @Get('all')
  all(): NoteDto[] {
    return this.notes.all().map((note) => NoteDto.from(note));
  }
}
