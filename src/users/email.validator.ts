import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';
import { emailProblem, normalizeEmail } from './email';

/**
 * An email field of a request: a spelling that `emailProblem` refuses is a 400 with its
 * reason; any other reaches the route normalised (`normalizeEmail`), the spelling it is
 * stored and looked up under. The refusal needs the spelling as sent (normalising would
 * fold fullwidth `ａｌｉｃｅ` into `alice` and hide it), so a refused value is left as it
 * came for the check to see; an accepted one stays accepted once normalised (email.spec.ts).
 * Whether the value is a string and an address at all is left to IsEmail beside it.
 */
export function IsAcceptableEmail(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && emailProblem(value) === undefined ? normalizeEmail(value) : value)),
    ValidateBy(
      {
        name: 'isAcceptableEmail',
        validator: {
          validate: (value: unknown) => typeof value !== 'string' || emailProblem(value) === undefined,
          defaultMessage: (args) => emailProblem(String(args?.value)) ?? 'email is not acceptable',
        },
      },
      options,
    ),
  );
}
