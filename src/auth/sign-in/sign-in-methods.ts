import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Tx } from '../../database/tx';
import type { SignInFacts } from './sign-in-facts';
import { ProvidesSignInMethod, ProvidesSignInRule, type SignInMethod, type SignInRule } from './sign-in-method';

/** The providers marked with `decorator` in every mounted module, each instance once. */
export function discover<T>(discovery: DiscoveryService, decorator: { KEY: string }): T[] {
  const instances = discovery.getProviders({ metadataKey: decorator.KEY }).map((wrapper) => wrapper.instance as T | undefined);
  return [...new Set(instances.filter((instance): instance is T => instance != null))];
}

/** Every registered SignInMethod, by name (at start: a module mounted later is not seen). */
@Injectable()
export class SignInMethods implements OnModuleInit {
  private methods: SignInMethod[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    this.methods = discover<SignInMethod>(this.discovery, ProvidesSignInMethod);
    const names = this.methods.map((m) => m.name);
    const twice = names.find((name, i) => names.indexOf(name) !== i);
    // `methods` and /auth/login/mfa name them: two of one name would be one the client cannot choose.
    if (twice) throw new Error(`Two sign-in methods are named "${twice}"`);
  }

  /** Every registered method, in registration order. */
  all(): readonly SignInMethod[] {
    return this.methods;
  }

  /** The method called `name`, if one is registered. */
  byName(name: string): SignInMethod | undefined {
    return this.methods.find((m) => m.name === name);
  }

  /** The names of the methods this user can take next, after `facts`, in registration order. */
  async offeredAfter(tx: Tx, facts: SignInFacts): Promise<string[]> {
    const offered: string[] = [];
    for (const method of this.methods) if (method.offeredAfter && (await method.offeredAfter(tx, facts))) offered.push(method.name);
    return offered;
  }
}

/** Every registered SignInRule (at start). */
@Injectable()
export class SignInRules implements OnModuleInit {
  rules: readonly SignInRule[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    this.rules = discover<SignInRule>(this.discovery, ProvidesSignInRule);
  }
}
