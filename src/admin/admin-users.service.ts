import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { DeviceDto } from '../auth/devices/device.dto';
import { DevicesService } from '../auth/devices/devices.service';
import { UserDto } from '../users/user.dto';
import { UsersRepository } from '../users/users.repository';
import { PAGE_SIZE, pageOf } from './dto/page.dto';
import type { ListUsersQuery, UsersPageDto } from './dto/users.dto';

export const USER_NOT_FOUND = 'User not found';

/** What the admin API reads about users: the list and their sessions. */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly devices: DevicesService,
  ) {}

  /**
   * Newest first. Keyset pagination: the cursor is the last user shown, and the next page
   * is what sorts after it, however many rows came before.
   */
  async list({ email, take = PAGE_SIZE.default, cursor }: ListUsersQuery): Promise<UsersPageDto> {
    const after = cursor === undefined ? undefined : await this.users.createdAtOf(cursor);
    if (after === null) throw new BadRequestException(['cursor does not match any user']);
    const rows = await this.users.page({ emailContains: email, after, take: take + 1 });
    return pageOf(
      rows.map((user) => UserDto.from(user)),
      take,
      (user) => user.id,
    );
  }

  async sessions(userId: string): Promise<DeviceDto[]> {
    if (!(await this.users.exists(userId))) throw new NotFoundException(USER_NOT_FOUND);
    return this.devices.list(userId);
  }
}
