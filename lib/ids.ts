const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const UUID_LENGTH = 36;

/** True for a textual UUID; other ids are answered with 404 before any connection opens. */
export const isUuid = (value: string): boolean => value.length === UUID_LENGTH && UUID.test(value);

const USER_ID = /^[1-9]\d{0,15}$/;

/**
 * A user id as Django's auth_user.id: a positive integer. SimpleJWT writes the `user_id` claim
 * as a JSON number; a numeric string (USER_ID_FIELD on a CharField, or a bigint read by pg) is
 * accepted too. Anything else — including ids past 2^53, which a JSON number cannot carry — is
 * undefined.
 */
export function parseUserId(value: unknown): number | undefined {
  const id = typeof value === 'string' && USER_ID.test(value) ? Number(value) : value;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
