// Domain errors with a stable `code`. lib/http/errors.ts maps them to HTTP in one place.

export type FieldErrors = Record<string, string[]>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  headers: Record<string, string> = {};
  /** The JSON body the client sees; never contains internals. */
  abstract body(): Record<string, unknown>;
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly status = 400;
  readonly code = 'invalid';
  constructor(readonly fields: FieldErrors) {
    super('Invalid input.');
  }
  body() {
    return this.fields;
  }
}

abstract class DetailError extends AppError {
  constructor(readonly detail: string, options?: ErrorOptions) {
    super(detail, options);
  }
  body(): Record<string, unknown> {
    return { detail: this.detail };
  }
}

export class ParseError extends DetailError {
  override readonly name = 'ParseError';
  readonly status = 400;
  readonly code = 'parse_error';
}

export class NotAuthenticated extends DetailError {
  override readonly name = 'NotAuthenticated';
  readonly status = 401;
  readonly code = 'not_authenticated';
  constructor() {
    super('Authentication credentials were not provided.');
    this.headers = { 'WWW-Authenticate': 'Bearer realm="api"' };
  }
}

/** SimpleJWT's InvalidToken: a bad, expired or wrong-type token. */
export class InvalidToken extends DetailError {
  override readonly name = 'InvalidToken';
  readonly status = 401;
  readonly code = 'token_not_valid';
  constructor(detail = 'Given token not valid for any token type', options?: ErrorOptions) {
    super(detail, options);
    this.headers = { 'WWW-Authenticate': 'Bearer realm="api"' };
  }
  override body() {
    return { detail: this.detail, code: this.code };
  }
}

export class AuthenticationFailed extends DetailError {
  override readonly name = 'AuthenticationFailed';
  readonly status = 401;
  readonly code = 'authentication_failed';
  constructor() {
    super('No active account found with the given credentials');
  }
}

export class NotFound extends DetailError {
  override readonly name = 'NotFound';
  readonly status = 404;
  readonly code = 'not_found';
  constructor(detail = 'Not found.') {
    super(detail);
  }
}

/** A request that is well-formed but cannot be served as asked (e.g. an export too large). */
export class BadRequest extends DetailError {
  override readonly name = 'BadRequest';
  readonly status = 400;
  readonly code = 'bad_request';
}

/** The request conflicts with the current state (a non-empty book, a request still in flight). */
export class Conflict extends DetailError {
  override readonly name = 'Conflict';
  readonly status = 409;
  readonly code = 'conflict';
  constructor(detail: string, retryAfterSeconds?: number) {
    super(detail);
    if (retryAfterSeconds !== undefined) this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** Well-formed but semantically refused (an Idempotency-Key reused with another request). */
export class Unprocessable extends DetailError {
  override readonly name = 'Unprocessable';
  readonly status = 422;
  readonly code = 'unprocessable';
}

export class MethodNotAllowed extends DetailError {
  override readonly name = 'MethodNotAllowed';
  readonly status = 405;
  readonly code = 'method_not_allowed';
  constructor(method: string) {
    super(`Method "${method}" not allowed.`);
  }
}

export class PayloadTooLarge extends DetailError {
  override readonly name = 'PayloadTooLarge';
  readonly status = 413;
  readonly code = 'payload_too_large';
  constructor(limit: number) {
    super(`Request body exceeds ${limit} bytes.`);
  }
}

export class UnsupportedMediaType extends DetailError {
  override readonly name = 'UnsupportedMediaType';
  readonly status = 415;
  readonly code = 'unsupported_media_type';
  constructor(contentType: string) {
    super(`Unsupported media type "${contentType}" in request.`);
  }
}

/** The database refused or dropped us past the request's deadline (or is down). */
export class DatabaseUnavailable extends DetailError {
  override readonly name = 'DatabaseUnavailable';
  readonly status = 503;
  readonly code = 'database_unavailable';
  constructor(options?: ErrorOptions, retryAfterSeconds = 1) {
    super('The database is busy or unavailable. Please retry shortly.', options);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
  override body() {
    return { detail: this.detail, code: this.code };
  }
}

/** The invocation ran out of time (early timeout); its connection has been closed. */
export class RequestTimeout extends DetailError {
  override readonly name = 'RequestTimeout';
  readonly status = 504;
  readonly code = 'timeout';
  constructor(options?: ErrorOptions) {
    super('The request took too long and was cancelled.', options);
  }
  override body() {
    return { detail: this.detail, code: this.code };
  }
}

/** Too many failed logins for one username: DRF's throttle message, with Retry-After. */
export class Throttled extends DetailError {
  override readonly name = 'Throttled';
  readonly status = 429;
  readonly code = 'throttled';
  constructor(retryAfterSeconds: number) {
    const wait = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`Request was throttled. Expected available in ${wait} second${wait === 1 ? '' : 's'}.`);
    this.headers = { 'Retry-After': String(wait) };
  }
  override body() {
    return { detail: this.detail, code: this.code };
  }
}

/** A dependency other than the database (the JWT secret's SSM parameter) could not be reached. */
export class DependencyUnavailable extends DetailError {
  override readonly name = 'DependencyUnavailable';
  readonly status = 503;
  readonly code = 'dependency_unavailable';
  /** Which dependency failed, for the smoke test and the operator (never a secret). */
  constructor(readonly dependency: string, options?: ErrorOptions, retryAfterSeconds = 2) {
    super('A service this request needs is unavailable. Please retry shortly.', options);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
  override body() {
    return { detail: this.detail, code: this.code, dependency: this.dependency };
  }
}
