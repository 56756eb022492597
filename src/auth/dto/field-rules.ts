import { IsDefined } from 'class-validator';

/**
 * One message per field with a problem: a missing field gets only "<field> is required",
 * and of the other checks of a field each runs only when the ones before it passed (with
 * class-validator's per-decorator `validateIf`), so `{}` is not answered with four
 * messages about lengths and formats of values nobody sent. The LocalAuthGuard and the
 * ValidationPipe both read these decorators, so login's messages are the same either way.
 */

/** `<field> is required` when the value is undefined or null. */
export const Required = (field: string): PropertyDecorator => IsDefined({ message: `${field} is required` });

/** A value was sent (the checks of its form may run). */
export const given = (_object: object, value: unknown): boolean => value !== undefined && value !== null;

/** The value is a string (the checks of its length and content may run). */
export const isText = (_object: object, value: unknown): boolean => typeof value === 'string';

/** The value is a string of `min` to `max` characters (the checks of its content may run). */
export const textWithin =
  (min: number, max: number) =>
  (_object: object, value: unknown): boolean =>
    typeof value === 'string' && value.length >= min && value.length <= max;

/** The value is a whole number (its bounds may be checked). */
export const isWholeNumber = (_object: object, value: unknown): boolean => Number.isInteger(value);
