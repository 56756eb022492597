import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { isWholeNumber } from '../../auth/dto/field-rules';

export const PAGE_SIZE = { default: 20, max: 100 } as const;

/** Swagger for `nextCursor`, and the message for a `cursor` that is not one. */
export const NEXT_CURSOR_DOC = { type: String, nullable: true, description: 'The `cursor` of the next page; null on the last one' };
export const BAD_CURSOR = 'cursor must be the nextCursor of a previous page';
const BAD_TAKE = `take must be a whole number from 1 to ${PAGE_SIZE.max}`;

/** `?take=`: how many items a page holds. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: PAGE_SIZE.max, default: PAGE_SIZE.default })
  @IsOptional()
  @Type(() => Number)
  // One message, whichever way it is wrong.
  @IsInt({ message: BAD_TAKE })
  @Min(1, { message: BAD_TAKE, validateIf: isWholeNumber })
  @Max(PAGE_SIZE.max, { message: BAD_TAKE, validateIf: isWholeNumber })
  take?: number;
}

/**
 * A page from `take + 1` rows read in the page's order: the extra row only tells that
 * there is more, and the cursor is the last item shown (the next page starts after it).
 */
export function pageOf<T>(rows: T[], take: number, cursorOf: (item: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, take);
  return { items, nextCursor: rows.length > take ? cursorOf(items[items.length - 1]) : null };
}
