import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';

export interface Note {
  id: string;
  ownerId: string;
  text: string;
  createdAt: Date;
}

/**
 * The example's storage. In memory on purpose: the example is about mounting a module and
 * guarding its routes, and needs no table of its own. Notes are lost at restart and are
 * not shared between instances; a real module owns a model in prisma/schema.prisma and a
 * migration, and reads it through PrismaService.
 */
@Injectable()
export class NotesService {
  private readonly notes: Note[] = [];

  add(ownerId: string, text: string): Note {
    const note = { id: randomUUID(), ownerId, text, createdAt: new Date() };
    this.notes.push(note);
    return note;
  }

  ofOwner(ownerId: string): Note[] {
    return this.notes.filter((note) => note.ownerId === ownerId);
  }

  all(): Note[] {
    return [...this.notes];
  }

  count(): number {
    return this.notes.length;
  }
}
