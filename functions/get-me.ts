import { findUser } from '../lib/auth/users.js';
import { withConnection } from '../lib/db.js';
import { InvalidToken } from '../lib/errors.js';
import { api } from '../lib/http/api.js';

export const handler = api({}, async (req) => {
  const user = await withConnection((db) => findUser(db, req.userId), req);
  if (!user) throw new InvalidToken('User not found');
  return user;
});
