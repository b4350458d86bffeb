import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { transferOwnership } from '../lib/members/ownership.js';
import { MEMBER_ROUTES } from '../lib/routes/members.js';

export const handler = api(MEMBER_ROUTES.transferBookOwnership, (req) =>
  withConnection((db) => transferOwnership(db, req.caller, req.id, req.body.user_id), req.connection),
);
