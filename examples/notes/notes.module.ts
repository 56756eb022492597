import { Module } from '@nestjs/common';
import { NotesController } from './notes.controller';
import { NotesService } from './notes.service';

/**
 * An example feature module, mounted with `createApp(config, { extraImports: [NotesModule] })`
 * (examples/notes/main.ts, test/examples/notes.e2e-spec.ts). It imports nothing of the auth
 * backend's modules: the guards are global, and the decorators are plain metadata.
 */
@Module({ controllers: [NotesController], providers: [NotesService] })
export class NotesModule {}
