import { Controller, Get, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Authentication } from './auth-client.service';
import { AuthGuard } from './auth.guard';
import { REQUIRE_AUTH, RequireAuth, StepUpGuard, stepUpRefusal } from './require-auth';

const NOW = 1_800_000_000;
const aal1: Authentication = { authTime: NOW - 10, amr: ['pwd'], acr: 'aal1' };
const aal2: Authentication = { authTime: NOW - 10, amr: ['pwd', 'otp', 'mfa'], acr: 'aal2' };
const PREFIX = 'Bearer error="insufficient_user_authentication", error_description=';

describe('stepUpRefusal: RFC 9470 from the token’s claims', () => {
  it('lets through what meets the demand, at the boundary too', () => {
    expect(stepUpRefusal(aal2, { acr: 'aal2', maxAge: 300 }, NOW)).toBeNull();
    expect(stepUpRefusal(aal1, {}, NOW)).toBeNull();
    expect(stepUpRefusal(aal1, { maxAge: 10 }, NOW)).toBeNull();
    expect(stepUpRefusal(undefined, {}, NOW)).toBeNull();
  });

  it('answers a stale authentication with max_age only', () => {
    expect(stepUpRefusal(aal2, { acr: 'aal2', maxAge: 9 }, NOW)).toEqual({
      description: 'A more recent authentication is required',
      challenge: `${PREFIX}"A more recent authentication is required", max_age=9`,
    });
  });

  it('answers a missing level with acr_values (and max_age when the route has one)', () => {
    expect(stepUpRefusal(aal1, { acr: 'aal2', maxAge: 300 }, NOW)?.challenge).toBe(
      `${PREFIX}"Authentication with a second factor is required", max_age=300, acr_values="aal2"`,
    );
    expect(stepUpRefusal(aal1, { acr: 'aal2' }, NOW)?.challenge).toBe(`${PREFIX}"Authentication with a second factor is required", acr_values="aal2"`);
  });

  it('meets no demand with a token that lacks the sign-in claims: age unknown, level aal1', () => {
    expect(stepUpRefusal(undefined, { maxAge: 300 }, NOW)?.challenge).toBe(`${PREFIX}"A more recent authentication is required", max_age=300`);
    expect(stepUpRefusal(undefined, { acr: 'aal2' }, NOW)?.description).toBe('Authentication with a second factor is required');
  });
});

describe('@RequireAuth and StepUpGuard', () => {
  @Controller()
  class Routes {
    @RequireAuth({ acr: 'aal2', maxAge: 60 })
    @Get('transfer')
    transfer() {}

    @RequireAuth()
    @Get('plain')
    plain() {}
  }

  /** A route's handler, as Nest hands it to guards (the function its decorators wrote metadata on). */
  const handler = (name: 'transfer' | 'plain') => Object.getOwnPropertyDescriptor(Routes.prototype, name)!.value as () => void;

  function contextOf(handler: () => void, authInfo: Authentication | undefined) {
    const headers: Record<string, string> = {};
    const context = {
      getHandler: () => handler,
      getClass: () => Routes,
      switchToHttp: () => ({ getRequest: () => ({ authInfo }), getResponse: () => ({ header: (name: string, value: string) => (headers[name] = value) }) }),
    } as unknown as ExecutionContext;
    return { context, headers };
  }

  it('runs AuthGuard, then StepUpGuard, with the demand as metadata', () => {
    expect(Reflect.getMetadata(GUARDS_METADATA, handler('transfer'))).toEqual([AuthGuard, StepUpGuard]);
    expect(Reflect.getMetadata(REQUIRE_AUTH, handler('transfer'))).toEqual({ acr: 'aal2', maxAge: 60 });
  });

  it('refuses with 401 and the WWW-Authenticate challenge; passes a token that meets the demand and a route without one', () => {
    const guard = new StepUpGuard(new Reflector());
    const weak = contextOf(handler('transfer'), { ...aal1, authTime: Math.floor(Date.now() / 1000) });
    expect(() => guard.canActivate(weak.context)).toThrow(new UnauthorizedException('Authentication with a second factor is required'));
    expect(weak.headers['www-authenticate']).toBe(`${PREFIX}"Authentication with a second factor is required", max_age=60, acr_values="aal2"`);

    const fresh = contextOf(handler('transfer'), { ...aal2, authTime: Math.floor(Date.now() / 1000) });
    expect(guard.canActivate(fresh.context)).toBe(true);
    expect(fresh.headers).toEqual({});
    expect(guard.canActivate(contextOf(handler('plain'), undefined).context)).toBe(true);
  });

  it('refuses a maxAge that is not whole seconds when the route is declared', () => {
    expect(() => RequireAuth({ maxAge: 1.5 })).toThrow('@RequireAuth: maxAge must be a whole number of seconds, got 1.5');
    expect(() => RequireAuth({ maxAge: -1 })).toThrow(/maxAge/);
  });
});
