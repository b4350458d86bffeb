import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { listMembers } from '../lib/members/queries.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.listBookMembers, (req) => withConnection((db) => listMembers(db, req.caller, req.id), req.connection));
