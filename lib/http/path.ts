import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { NotFound } from '../errors.js';
import { isUuid } from '../ids.js';

/** The {id} path parameter; anything but a UUID is a 404, as DRF answers a malformed pk. */
export function pathId(event: APIGatewayProxyEventV2): string {
  const id = event.pathParameters?.id ?? '';
  if (!isUuid(id)) throw new NotFound();
  return id.toLowerCase();
}
