import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ThrottlerStorageModule } from '../throttling/throttling.module';
import { BackchannelLogout } from './backchannel-logout';
import { ClientAuthGuard } from './client-auth.guard';
import { ClientsRepository } from './clients.repository';
import { ClientsService } from './clients.service';
import { FeedMetrics } from './feed-metrics';
import { IntrospectionService } from './introspection.service';
import { RelyingPartyController } from './relying-party.controller';
import { RevocationFeed } from './revocation-feed';

/**
 * Services that accept our access tokens: their registration (admin, AdminClientsController),
 * their HTTP Basic authentication, introspection, the revocation feed, and back-channel
 * logout to those that asked for it.
 */
@Module({
  imports: [ThrottlerStorageModule, AuthModule],
  controllers: [RelyingPartyController],
  providers: [ClientsRepository, ClientsService, ClientAuthGuard, IntrospectionService, RevocationFeed, BackchannelLogout, FeedMetrics],
  exports: [ClientsService],
})
export class ClientsModule {}
