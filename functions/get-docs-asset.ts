import { NotFound } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { HttpReply } from '../lib/http/responses.js';
import { DOCS_ASSETS } from '../lib/openapi/assets.js';
import { SERVICE_ROUTES } from '../lib/routes/service.js';

// Swagger UI's files, from swagger-ui-dist inlined into this function's bundle only.
export const handler = api(SERVICE_ROUTES.getDocsAsset, async (req) => {
  const file = req.event.pathParameters?.file ?? '';
  const asset = Object.hasOwn(DOCS_ASSETS, file) ? DOCS_ASSETS[file] : undefined;
  if (!asset) throw new NotFound();
  return new HttpReply(200, asset.body, { 'Content-Type': asset.contentType, 'Cache-Control': 'public, max-age=3600' }, true);
});
