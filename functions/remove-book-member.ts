import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { pathUserId } from '../lib/http/path.js';
import { removeMember } from '../lib/members/queries.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

// With the caller's own id, this is leaving the book.
export const handler = api(MEMBER_ROUTES.removeBookMember, (req) => {
  const userId = pathUserId(req.event);
  return withConnection((db) => removeMember(db, req.caller, req.id, userId), req.connection);
});
