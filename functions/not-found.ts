import { NotFound } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { FALLBACKS } from '../lib/routes/fallbacks.js';

// The $default route: any path outside the API contract.
export const handler = api(FALLBACKS.notFound, async () => {
  throw new NotFound();
});
