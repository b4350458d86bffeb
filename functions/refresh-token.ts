import { refreshBody } from '../lib/auth/schemas.js';
import { refreshAccessToken } from '../lib/auth/tokens.js';
import { api } from '../lib/http/api.js';

// CPU only: a refresh never opens a database connection.
export const handler = api({ auth: false, body: refreshBody }, (req) => refreshAccessToken(req.body.refresh));
