import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { inviteMember } from '../lib/members/queries.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.inviteBookMember, (req) =>
  withConnection((db) => inviteMember(db, req.caller, req.id, req.body), req.connection),
);
