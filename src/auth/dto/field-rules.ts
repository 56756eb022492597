import { IsDefined, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * One message per field with a problem: a missing field gets only "<field> is required",
 * and of the other checks of a field each runs only when the ones before it passed (with
 * class-validator's per-decorator `validateIf`), so `{}` is not answered with four
 * messages about lengths and formats of values nobody sent. The LocalAuthGuard and the
 * ValidationPipe both read these decorators, so login's messages are the same either way.
 */

/**
 * RFC 6749 §3.1, which RFC 7009 and RFC 7662 build on: "Parameters sent without a value
 * MUST be treated as if they were omitted from the request." For `@Transform`: `token=`
 * (or `{"token": ""}`) is a missing token, not an invalid one.
 */
export const omittedIfEmpty = ({ value }: { value: unknown }): unknown => (value === '' ? undefined : value);

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

/**
 * An absolute http(s) URL that outbound deliveries (webhooks, back-channel logout) can be
 * sent to: written `http://host…` or `https://host…`, without whitespace or control
 * characters, and parsed by WHATWG `new URL()`, which the delivery itself uses. Not
 * class-validator's IsUrl: its grammar is another one, and it accepted what `new URL()`
 * refuses (an IPv6 zone id, `http://[fe80::1%25lo]/`: a 500 on the webhook routes, every
 * back-channel logout failed) or reads differently (`http:example.com`). The parser
 * itself would also take ` https://x`, `https://x/a<newline>b` and `https://x\a`,
 * dropping the space and the newline and reading the backslash as `/`: what is stored
 * would not be what is delivered to.
 * Credentials (`https://user:password@host/`) are accepted: Node sends them as HTTP
 * Basic, a way for a receiver to authenticate deliveries, as is a key in the query.
 */
export const isHttpUrl = (value: unknown): boolean =>
  typeof value === 'string' && /^https?:\/\/[^\s\p{Cc}\\/?#][^\s\p{Cc}\\]*$/iu.test(value) && URL.canParse(value);

/** `<field> must be an http or https URL` when the value is not `isHttpUrl`; checked only when `validateIf` says so. */
export const HttpUrl = (field: string, validateIf: ValidationOptions['validateIf']): PropertyDecorator =>
  ValidateBy({ name: 'isHttpUrl', validator: { validate: isHttpUrl } }, { message: `${field} must be an http or https URL`, validateIf });
