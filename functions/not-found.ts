import { NotFound } from '../lib/errors.js';
import { api } from '../lib/http/api.js';

// The $default route: any path outside the API contract.
export const handler = api({ auth: false }, async () => {
  throw new NotFound();
});
