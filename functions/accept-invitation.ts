import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { pathUuid } from '../lib/http/path.js';
import { acceptInvitation } from '../lib/members/invitations.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.acceptInvitation, (req) => {
  const bookId = pathUuid(req.event, 'book_id');
  return withConnection((db) => acceptInvitation(db, req.caller, bookId), req.connection);
});
