/** What a password may be: 8 to 256 characters, any characters; never truncated (argon2 takes any length). */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** Why `password` cannot be a new password, or undefined. For the places that are not DTOs (the CLI, ADMIN_PASSWORD). */
export function passwordProblem(password: string): string | undefined {
  return password.length < PASSWORD_MIN || password.length > PASSWORD_MAX ? `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` : undefined;
}
