import { api } from '../lib/http/api.js';
import { buildDocument } from '../lib/openapi/document.js';
import { SERVICE_ROUTES } from '../lib/routes/service.js';

// Built once per container from the zod schemas and the route table.
const document = buildDocument();

export const handler = api(SERVICE_ROUTES.getOpenApi, async () => document);
