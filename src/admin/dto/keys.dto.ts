import { ApiProperty } from '@nestjs/swagger';

export class KeyDto {
  @ApiProperty({ description: 'RFC 7638 thumbprint of the public key (base64url, 43 characters)' }) kid!: string;
  @ApiProperty({ enum: ['ES256', 'RS256'] }) alg!: string;
  @ApiProperty({
    enum: ['next', 'active', 'retiring', 'revoked'],
    description: 'next: published, signs from activatesAt; active: signs; retiring: replaced, verifies its tokens until they expire; revoked',
  })
  status!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() activatesAt!: Date;
  @ApiProperty({ type: Date, nullable: true, description: 'When the next key took over; null while none has' }) retiresAt!: Date | null;
}

export class KeysDto {
  @ApiProperty({ type: [KeyDto], description: 'Newest activation first' }) items!: KeyDto[];
}

export class RotatedKeyDto {
  @ApiProperty() kid!: string;
  @ApiProperty({ description: 'When it starts signing: now + SIGNING_KEY_LEAD' }) activatesAt!: Date;
}
