import type { ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { DatabaseStoppedError, DiskFullError } from '../database/disk-guard';
import { AllExceptionsFilter, DATABASE_DISK_FULL, DATABASE_UNAVAILABLE, databaseUnavailability } from './http-exception.filter';

/** A PostgreSQL error as its Prisma driver adapter reports it (@prisma/adapter-pg and pglite-prisma-adapter alike). */
const adapterError = (code: string, message: string, severity = 'ERROR') => ({
  name: 'DriverAdapterError',
  message,
  cause: { kind: 'postgres', code, severity, message, originalCode: code, originalMessage: message },
});
/** What Prisma throws around it: P2039 for a model query, P2010 for $queryRaw / $executeRaw. */
const prismaError = (prismaCode: 'P2039' | 'P2010', driverAdapterError: object) =>
  Object.assign(new Error(`Database error. Code: \`${(driverAdapterError as { cause: { code: string } }).cause.code}\``), {
    name: 'PrismaClientKnownRequestError',
    code: prismaCode,
    meta: { driverAdapterError },
  });

const EXTEND = 'could not extend file "base/16384/16397": No space left on device';

describe('databaseUnavailability: a full disk', () => {
  it.each([
    ['a PostgreSQL server, a model query (P2039)', prismaError('P2039', adapterError('53100', EXTEND))],
    ['a PostgreSQL server, a raw query (P2010)', prismaError('P2010', adapterError('53100', EXTEND))],
    ['pg itself, below Prisma (migrations, LISTEN)', Object.assign(new Error(EXTEND), { code: '53100', severity: 'ERROR' })],
    [
      'PGlite, a WAL write (a PANIC)',
      prismaError('P2039', adapterError('53100', 'could not write to file "pg_wal/xlogtemp.42": No space left on device', 'PANIC')),
    ],
    ['the embedded database refusing a write (DiskGuard)', new DiskFullError('the database cannot write: disk full (0.0 MiB free)')],
    ['the embedded database stopped at a disk-full PANIC', new DatabaseStoppedError('53100', 'stopped')],
  ])('is "the database cannot write: disk full" for %s', (_, error) => {
    expect(databaseUnavailability(error)).toBe(DATABASE_DISK_FULL);
  });

  it.each([
    ['an unreachable server', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    [
      'a server restarting after its PANIC (57P02 crash shutdown)',
      prismaError('P2039', adapterError('57P02', 'terminating connection because of crash of another server process', 'FATAL')),
    ],
    [
      'too many connections (53300, the same SQLSTATE class as disk full)',
      prismaError('P2039', adapterError('53300', 'sorry, too many clients already', 'FATAL')),
    ],
    ['the embedded database stopped at another PANIC', new DatabaseStoppedError('XX000', 'stopped')],
  ])('is "Database unavailable" for %s', (_, error) => {
    expect(databaseUnavailability(error)).toBe(DATABASE_UNAVAILABLE);
  });

  it.each([
    ['a unique violation', prismaError('P2039', adapterError('23505', 'duplicate key value violates unique constraint'))],
    ['out of memory (53200)', prismaError('P2039', adapterError('53200', 'out of memory'))],
    ['a TypeError', new TypeError('Cannot read properties of null')],
  ])('is undefined for %s', (_, error) => {
    expect(databaseUnavailability(error)).toBeUndefined();
  });
});

describe('AllExceptionsFilter on a full disk', () => {
  it('answers 503 "the database cannot write: disk full" in the error shape, with no driver message', () => {
    const replies: Array<{ body: unknown; status: number }> = [];
    const httpAdapter = {
      getInstance: () => ({}),
      isHeadersSent: () => false,
      setHeader: () => undefined,
      reply: (_response: unknown, body: unknown, status: number) => replies.push({ body, status }),
    };
    const host = {
      getType: () => 'http',
      switchToHttp: () => ({ getResponse: () => ({}), getRequest: () => undefined }),
    } as unknown as ArgumentsHost;
    const filter = new AllExceptionsFilter({ httpAdapter } as unknown as HttpAdapterHost);
    jest.spyOn((filter as unknown as { logger: { warn: () => void } }).logger, 'warn').mockImplementation(() => undefined);

    filter.catch(prismaError('P2039', adapterError('53100', EXTEND)), host);
    expect(replies).toEqual([{ status: 503, body: { statusCode: 503, message: 'the database cannot write: disk full', error: 'Service Unavailable' } }]);
  });
});
