import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const PAGE_SIZE = { default: 20, max: 100 } as const;

/** Swagger for `nextCursor`, and the message for a `cursor` that is not one. */
export const NEXT_CURSOR_DOC = { type: String, nullable: true, description: 'The `cursor` of the next page; null on the last one' };
export const BAD_CURSOR = 'cursor must be the nextCursor of a previous page';

/** `?take=`: how many items a page holds. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: PAGE_SIZE.max, default: PAGE_SIZE.default })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_SIZE.max)
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
