import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { Public } from '../../src/auth/decorators/public.decorator';
import { RevocationService } from '../../src/auth/revocation/revocation.service';
import { AccessTokens } from '../../src/auth/tokens/access-token';
import { VerifiedTokens } from '../../src/auth/tokens/verified-tokens';
import { PrismaService } from '../../src/database/prisma.service';

// The benchmark's memory run asks for a collection before each reading, so that the
// heap figures are what is held, not what is waiting for the collector.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * The memory run's routes (benchmark build only, never the product): mint many distinct
 * access tokens with the app's own signer, end many sessions through the app's own
 * revocation path, and read what memory holds. The sessions named by minted tokens
 * exist only in the tokens: while the instance's memory is live nothing reads them,
 * which is the point (GET /auth/me answers from memory).
 */
@Public()
@Controller('bench')
export class MemoryController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly tokens: AccessTokens,
    private readonly revocation: RevocationService,
    private readonly verified: VerifiedTokens,
  ) {}

  /** `count` access tokens of the user, each for a session of its own: `{ sessionIds, tokens }`. */
  @Post('tokens')
  async mint(@Body() body: { userId: string; count: number }) {
    const user = await this.prisma.user.findUniqueOrThrow({ where: { id: body.userId } });
    const sessionIds = Array.from({ length: body.count }, () => randomUUID());
    const facts = { authTime: new Date(), amr: ['pwd'], acr: 'aal1' as const };
    const tokens = sessionIds.map((sessionId) =>
      this.tokens.sign({ userId: user.id, sessionId, tokenVersion: user.refreshTokenVersion, role: user.role, ...facts }),
    );
    return { sessionIds, tokens };
  }

  /** Ends these sessions of the user as a logout does: revocation events, in one transaction. */
  @Post('revocations')
  @HttpCode(204)
  async revoke(@Body() body: { userId: string; sessionIds: string[] }) {
    await this.revocation.transaction((_tx, revoke) => {
      for (const sessionId of body.sessionIds) revoke({ kind: 'SESSION_ENDED', userId: body.userId, sessionId });
      return Promise.resolve();
    });
  }

  /** After a full collection: the heap, the resident set, and the entries of both bounded structures. */
  @Get('memory')
  memory() {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    return { heapUsed, rss, verifiedTokens: this.verified.size, revocationWindow: this.revocation.size };
  }
}
