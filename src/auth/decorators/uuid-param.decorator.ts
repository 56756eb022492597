import { NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';

/**
 * A uuid path parameter; anything else is answered like an unknown id (404 with
 * `notFound`), never 400 or 500: a malformed id names no resource, the answer does not
 * tell a malformed id from an unknown one, and it never reaches a uuid column.
 */
export const UuidParam = (name: string, notFound: string) => Param(name, new ParseUUIDPipe({ exceptionFactory: () => new NotFoundException(notFound) }));
