import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { listInvitations } from '../lib/members/invitations.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.listInvitations, async (req) => {
  const page = await withConnection((db) => listInvitations(db, req.caller, req.query), req.connection);
  return paginate(req.event, req.query, page);
});
