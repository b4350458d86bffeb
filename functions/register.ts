import { registerUser } from '../lib/auth/accounts.js';
import { registerBody } from '../lib/auth/schemas.js';
import { api } from '../lib/http/api.js';

export const handler = api({ auth: false, body: registerBody, status: 201 }, (req) => registerUser(req.body, req));
