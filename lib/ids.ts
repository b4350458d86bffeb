const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a textual UUID; other ids are answered with 404 before any connection opens. */
export const isUuid = (value: string): boolean => UUID.test(value);
