import { Module } from '@nestjs/common';
import { EmailRespelling } from './email-respelling';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({ providers: [UsersRepository, UsersService, EmailRespelling], exports: [UsersRepository, UsersService] })
export class UsersModule {}
