import { ApiProperty } from '@nestjs/swagger';
import { ROLES, type Role } from '@nest-auth-backend/token-contract';
import type { User } from '../generated/prisma/client';

/** A user as the API shows it: never the password hash or the token version. */
export class UserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ description: 'The owner proved the address (a verification or reset link)' }) emailVerified!: boolean;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty() disabled!: boolean;
  @ApiProperty() createdAt!: Date;

  static from(user: Pick<User, 'id' | 'email' | 'emailVerified' | 'name' | 'role' | 'disabled' | 'createdAt'>): UserDto {
    return {
      id: user.id,
      email: user.email,
      emailVerified: user.emailVerified,
      name: user.name,
      role: user.role,
      disabled: user.disabled,
      createdAt: user.createdAt,
    };
  }
}
