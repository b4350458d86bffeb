import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { pathUserId } from '../lib/http/path.js';
import { updateMember } from '../lib/members/queries.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.updateBookMember, (req) => {
  const userId = pathUserId(req.event);
  return withConnection((db) => updateMember(db, req.caller, req.id, userId, req.body.role), req.connection);
});
