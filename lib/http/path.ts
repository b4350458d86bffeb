import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { NotFound } from '../errors.js';
import { isUuid } from '../ids.js';

/** The {id} path parameter; anything but a UUID is a 404, as DRF answers a malformed pk. */
export function pathId(event: APIGatewayProxyEventV2): string {
  const id = event.pathParameters?.id ?? '';
  if (!isUuid(id)) throw new NotFound();
  return id.toLowerCase();
}

/** A UUID path parameter other than {id} (`book_id`): 404 for anything else. */
export function pathUuid(event: APIGatewayProxyEventV2, name: string): string {
  const id = event.pathParameters?.[name] ?? '';
  if (!isUuid(id)) throw new NotFound();
  return id.toLowerCase();
}

/** A user id path parameter (`user_id`): a positive integer that fits a bigint, else 404. */
export function pathUserId(event: APIGatewayProxyEventV2, name = 'user_id'): string {
  const id = event.pathParameters?.[name] ?? '';
  if (!/^[1-9][0-9]{0,17}$/.test(id)) throw new NotFound();
  return id;
}
