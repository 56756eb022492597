import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ThrottlerStorageModule } from '../throttling/throttling.module';
import { ClientAuthGuard } from './client-auth.guard';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';
import { IntrospectionService } from './introspection.service';
import { RelyingPartyController } from './relying-party.controller';
import { RevocationFeed } from './revocation-feed';

/**
 * Services that accept our access tokens: their registration (admin, AdminClientsController),
 * their HTTP Basic authentication, introspection and the revocation feed.
 */
@Module({
  imports: [ThrottlerStorageModule, AuthModule],
  controllers: [RelyingPartyController],
  providers: [ClientsRepository, ClientsService, ClientAuthGuard, IntrospectionService, RevocationFeed],
  exports: [ClientsService],
})
export class ClientsModule {}
