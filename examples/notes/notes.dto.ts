import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import type { Note } from './notes.service';

export const NOTE_MAX = 500;

/**
 * POST /examples/notes. The global ValidationPipe (createApp) applies to every module:
 * a bad body is a 400 listing every problem, and a field not declared here (say
 * `ownerId`) is refused, so a client cannot choose whose note it writes.
 */
export class CreateNoteDto {
  @ApiProperty({ minLength: 1, maxLength: NOTE_MAX, example: 'Buy milk' })
  @IsString()
  @Length(1, NOTE_MAX, { message: `text must be 1 to ${NOTE_MAX} characters` })
  text!: string;
}

export class NoteDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', description: 'The user who wrote it' }) ownerId!: string;
  @ApiProperty() text!: string;
  @ApiProperty() createdAt!: Date;

  static from({ id, ownerId, text, createdAt }: Note): NoteDto {
    return { id, ownerId, text, createdAt };
  }
}

export class NotesCountDto {
  @ApiProperty({ description: 'How many notes exist, whoever wrote them' }) total!: number;
}
