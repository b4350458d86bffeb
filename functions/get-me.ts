import { findUser } from '../lib/auth/users.js';
import { withConnection } from '../lib/db.js';
import { InvalidToken } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

export const handler = api(ACCOUNT_ROUTES.getMe, async (req) => {
  const user = await withConnection((db) => findUser(db, req.caller), req.connection);
  if (!user) throw new InvalidToken('User not found');
  return user;
});
