import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { given, HttpUrl, isText, Required, textWithin } from '../../auth/dto/field-rules';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/webhook-event-types';
import { BAD_CURSOR, PageQuery } from './page.dto';

const URL_MAX = 2048;
const DESCRIPTION_MAX = 500;
const NO_CONTROL_CHARS = /^(?:[^\p{Cc}\p{Cf}]|\u200D)*$/u;
const EVENTS_MESSAGE = `events must be a non-empty list of: ${WEBHOOK_EVENT_TYPES.join(', ')}`;
const defined = (_: object, value: unknown) => value !== undefined;
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The rules of each field, shared by POST (url and events required) and PATCH (all optional). */
function UrlRules(): PropertyDecorator {
  return (target, key) => {
    IsString({ message: 'url must be a string', validateIf: given })(target, key);
    MaxLength(URL_MAX, { message: `url must be at most ${URL_MAX} characters`, validateIf: isText })(target, key);
    HttpUrl('url', textWithin(0, URL_MAX))(target, key);
  };
}
function EventsRules(): PropertyDecorator {
  return (target, key) => {
    IsArray({ message: EVENTS_MESSAGE, validateIf: given })(target, key);
    ArrayMinSize(1, { message: EVENTS_MESSAGE, validateIf: (_, v) => Array.isArray(v) })(target, key);
    ArrayMaxSize(WEBHOOK_EVENT_TYPES.length * 4, { message: EVENTS_MESSAGE, validateIf: (_, v) => Array.isArray(v) })(target, key);
    IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: EVENTS_MESSAGE, validateIf: (_, v) => Array.isArray(v) })(target, key);
  };
}
function DescriptionRules(): PropertyDecorator {
  return (target, key) => {
    Transform(trimmed)(target, key);
    ValidateIf((_, value) => value !== undefined && value !== null)(target, key);
    IsString({ message: 'description must be a string' })(target, key);
    MaxLength(DESCRIPTION_MAX, { message: `description must be at most ${DESCRIPTION_MAX} characters`, validateIf: isText })(target, key);
    Matches(NO_CONTROL_CHARS, { message: 'description must not contain control characters', validateIf: textWithin(0, DESCRIPTION_MAX) })(target, key);
  };
}

/** POST /admin/webhooks. */
export class CreateWebhookDto {
  @ApiProperty({
    format: 'uri',
    maxLength: URL_MAX,
    example: 'https://hooks.example.com/auth',
    description: 'http(s); must resolve to a public address unless WEBHOOK_ALLOW_PRIVATE_NETWORKS',
  })
  @Required('url')
  @UrlRules()
  url!: string;

  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_TYPES, example: ['session.revoked', 'user.disabled'], description: 'The audit event types it receives' })
  @Required('events')
  @EventsRules()
  events!: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: DESCRIPTION_MAX })
  @DescriptionRules()
  description?: string | null;
}

/** PATCH /admin/webhooks/:id: what is given changes. */
export class UpdateWebhookDto {
  @ApiPropertyOptional({ format: 'uri', maxLength: URL_MAX })
  @ValidateIf(defined)
  @UrlRules()
  url?: string;

  @ApiPropertyOptional({ type: [String], enum: WEBHOOK_EVENT_TYPES })
  @ValidateIf(defined)
  @EventsRules()
  events?: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: DESCRIPTION_MAX })
  @DescriptionRules()
  description?: string | null;

  @ApiPropertyOptional({ type: Boolean, description: 'true re-enables an endpoint that a 410 disabled' })
  @ValidateIf(defined)
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_TYPES }) events!: string[];
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Why the server disabled it (it answered 410 Gone); null otherwise' }) disabledReason!:
    string | null;
  @ApiProperty() createdAt!: Date;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ example: 'whsec_…', description: 'The signing secret (Standard Webhooks), shown once' }) secret!: string;
}

export class WebhooksDto {
  @ApiProperty({ type: [WebhookDto], description: 'Oldest first; never a secret' }) items!: WebhookDto[];
}

export class WebhookSecretDto {
  @ApiProperty({ description: 'The new secret, shown once; deliveries carry signatures with both for 24 h' }) secret!: string;
}

/** GET /admin/webhooks/:id/deliveries: newest first. */
export class WebhookDeliveriesQuery extends PageQuery {
  @ApiPropertyOptional({ pattern: '^\\d{1,18}$', description: '`nextCursor` of the previous page' })
  @ValidateIf(defined)
  @Matches(/^\d{1,18}$/, { message: BAD_CURSOR })
  cursor?: string;
}
