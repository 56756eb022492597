import { ROLES } from '@nest-auth-backend/token-contract';
import { Role } from '../../generated/prisma/client';

describe('roles', () => {
  // Tokens carry the contract's roles and clients check them; the database stores its own enum.
  it('the database enum (prisma/schema.prisma) holds exactly the token contract’s roles', () => {
    expect(Object.values(Role).sort()).toEqual([...ROLES].sort());
  });
});
