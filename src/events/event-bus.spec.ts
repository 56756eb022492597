import { Logger } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import type { PrismaService } from '../database/prisma.service';
import type { Tx } from '../database/tx';
import type { AuditEvent } from '../generated/prisma/client';
import { EventBus, OnEvent } from './event-bus';

const tx = { name: 'the transaction' } as unknown as Tx;
const calls: string[] = [];

class Webhooks {
  @OnEvent('audit.recorded', { types: ['user.disabled'] })
  async onAudit(_tx: Tx, event: AuditEvent): Promise<void> {
    calls.push(`webhooks:${event.type}`);
    if (event.type === 'user.disabled' && event.userId === 'fail') throw new Error('cannot queue');
  }
}

class Everything {
  @OnEvent('audit.recorded', { order: -1 })
  async first(_tx: Tx, event: AuditEvent): Promise<void> {
    calls.push(`everything:${event.type}`);
  }

  @OnEvent('signing-keys.replaced')
  cleared(): void {
    calls.push('everything:keys');
    throw new Error('a subscriber in process that fails');
  }
}

class AlsoKeys {
  @OnEvent('signing-keys.replaced')
  cleared(): void {
    calls.push('also:keys');
  }
}

/** The providers as Nest's DiscoveryService hands them over. */
const discovery = (...instances: object[]) =>
  ({ getProviders: () => instances.map((instance) => ({ instance, isDependencyTreeStatic: () => true })) }) as unknown as DiscoveryService;

const event = (type: string, userId: string | null = null) => ({ id: 1n, type, userId }) as AuditEvent;

/** $transaction runs its work with `tx`, and fails as the work fails (a rollback). */
const prisma = { $transaction: <T>(work: (tx: Tx) => Promise<T>) => work(tx) } as unknown as PrismaService;

describe('EventBus', () => {
  beforeEach(() => (calls.length = 0));

  it('finds every @OnEvent method of every provider and calls them by `order`, then by name', async () => {
    const bus = new EventBus(prisma, discovery(new Webhooks(), new Everything()));
    await bus.emitInTransaction(tx, 'audit.recorded', event('user.disabled'));
    expect(calls).toEqual(['everything:user.disabled', 'webhooks:user.disabled']);
  });

  it('delivers a typed payload only to the subscribers that take its type, and says who takes it', async () => {
    const bus = new EventBus(prisma, discovery(new Webhooks()));
    await bus.emitInTransaction(tx, 'audit.recorded', event('token.refreshed'));
    expect(calls).toEqual([]);
    expect(bus.has('audit.recorded', 'token.refreshed')).toBe(false);
    expect(bus.has('audit.recorded', 'user.disabled')).toBe(true);
    expect(bus.has('audit.recorded')).toBe(true);
  });

  it('lets a committed subscriber fail the emitter (its transaction rolls back)', async () => {
    const bus = new EventBus(prisma, discovery(new Webhooks()));
    await expect(bus.emitInTransaction(tx, 'audit.recorded', event('user.disabled', 'fail'))).rejects.toThrow('cannot queue');
  });

  it('never lets an in-process subscriber fail the emitter or the other subscribers', () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const bus = new EventBus(prisma, discovery(new Everything(), new AlsoKeys()));
    expect(() => bus.emit('signing-keys.replaced', {})).not.toThrow();
    expect(calls).toEqual(['also:keys', 'everything:keys']);
    expect(logged).toHaveBeenCalledWith('Everything.cleared failed on signing-keys.replaced: a subscriber in process that fails');
    logged.mockRestore();
  });

  it('runs afterCommit callbacks once the transaction committed, never after a rollback, and refuses a transaction it did not open', async () => {
    const bus = new EventBus(prisma);
    const applied: string[] = [];
    await bus.transaction(async (t) => {
      bus.afterCommit(t, () => applied.push('committed'));
      expect(applied).toEqual([]);
    });
    expect(applied).toEqual(['committed']);
    await expect(
      bus.transaction(async (t) => {
        bus.afterCommit(t, () => applied.push('rolled back'));
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(applied).toEqual(['committed']);
    expect(() => bus.afterCommit({} as Tx, () => undefined)).toThrow('afterCommit needs a transaction opened by EventBus.transaction');
  });

  it('has no subscribers when built without discovery (the command-line tools)', async () => {
    const bus = new EventBus(prisma);
    expect(bus.has('audit.recorded')).toBe(false);
    await bus.emitInTransaction(tx, 'audit.recorded', event('user.disabled'));
    expect(calls).toEqual([]);
  });
});
