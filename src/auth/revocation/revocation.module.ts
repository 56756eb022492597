import { Module } from '@nestjs/common';
import { SessionsRepositoryModule } from '../sessions/sessions-repository.module';
import { RevocationEventsRepository } from './revocation-events.repository';
import { RevocationService } from './revocation.service';

@Module({
  imports: [SessionsRepositoryModule],
  providers: [RevocationService, RevocationEventsRepository],
  exports: [RevocationService, RevocationEventsRepository],
})
export class RevocationModule {}
