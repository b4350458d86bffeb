import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { pathUuid } from '../lib/http/path.js';
import { declineInvitation } from '../lib/members/invitations.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.declineInvitation, (req) => {
  const bookId = pathUuid(req.event, 'book_id');
  return withConnection((db) => declineInvitation(db, req.caller, bookId), req.connection);
});
