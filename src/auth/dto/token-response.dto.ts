import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { UserDto } from '../../users/user.dto';

/** The answer of login, register and refresh (API.md, "Token response"). */
export class TokenResponseDto {
  @ApiProperty() accessToken!: string;
  @ApiPropertyOptional({ description: 'Absent in cookie mode: the refresh token is then only in the HttpOnly cookie.' })
  refreshToken?: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Access token lifetime, seconds' }) expiresIn!: number;
  @ApiProperty({ format: 'uuid' }) sessionId!: string;
  @ApiProperty({ type: UserDto }) user!: UserDto;
}
