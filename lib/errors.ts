// The errors a request can end with: each carries its HTTP status, a stable `code` and the body
// the client sees. errorResponse (lib/http/responses.ts) turns one into a response; anything else
// thrown becomes a 500 without internals.

export type FieldErrors = Record<string, string[]>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  headers: Record<string, string> = {};
  /** The JSON body the client sees; never contains internals. */
  abstract body(): Record<string, unknown>;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    // The class's own name in logs. The bundles keep identifiers (esbuild minifies syntax only)
    // but rename one that clashes with another top-level name: the template test checks that
    // no error class is renamed.
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
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

/** SimpleJWT's and our own service errors also name their code in the body. */
abstract class CodedError extends DetailError {
  override body(): Record<string, unknown> {
    return { detail: this.detail, code: this.code };
  }
}

export class ParseError extends DetailError {
  readonly status = 400;
  readonly code = 'parse_error';
}

export class NotAuthenticated extends DetailError {
  readonly status = 401;
  readonly code = 'not_authenticated';
  constructor() {
    super('Authentication credentials were not provided.');
    this.headers = { 'WWW-Authenticate': 'Bearer realm="api"' };
  }
}

/** SimpleJWT's InvalidToken: a bad, expired or wrong-type token. */
export class InvalidToken extends CodedError {
  readonly status = 401;
  readonly code = 'token_not_valid';
  constructor(detail = 'Given token not valid for any token type', options?: ErrorOptions) {
    super(detail, options);
    this.headers = { 'WWW-Authenticate': 'Bearer realm="api"' };
  }
}

/**
 * SimpleJWT's AuthenticationFailed with a code: the token is valid but its account is not
 * (deleted, deactivated, or no longer allowed to refresh).
 */
export class AccountRefused extends CodedError {
  readonly status = 401;
  constructor(detail: string, readonly code: string, options?: ErrorOptions) {
    super(detail, options);
    this.headers = { 'WWW-Authenticate': 'Bearer realm="api"' };
  }
}

export class AuthenticationFailed extends DetailError {
  readonly status = 401;
  readonly code = 'authentication_failed';
  constructor() {
    super('No active account found with the given credentials');
  }
}

/** DRF's PermissionDenied: the request is understood and refused (registration closed). */
export class PermissionDenied extends DetailError {
  readonly status = 403;
  readonly code = 'permission_denied';
}

/**
 * A member of the book whose role does not allow the action: 403 naming the role needed (shared
 * books, lib/books/access.ts). A non-member gets NotFound instead, as for a missing object.
 */
export class RoleRequired extends CodedError {
  readonly status = 403;
  readonly code = 'permission_denied';
}

export class NotFound extends DetailError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(detail = 'Not found.') {
    super(detail);
  }
}

/** A request that is well-formed but cannot be served as asked (e.g. an export too large). */
export class BadRequest extends DetailError {
  readonly status = 400;
  readonly code = 'bad_request';
}

/** The request conflicts with the current state (a non-empty book, a request still in flight). */
export class Conflict extends DetailError {
  readonly status = 409;
  readonly code = 'conflict';
  constructor(detail: string, retryAfterSeconds?: number) {
    super(detail);
    if (retryAfterSeconds !== undefined) this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** Well-formed but semantically refused (an Idempotency-Key reused with another request). */
export class Unprocessable extends DetailError {
  readonly status = 422;
  readonly code = 'unprocessable';
}

export class MethodNotAllowed extends DetailError {
  readonly status = 405;
  readonly code = 'method_not_allowed';
  constructor(method: string) {
    super(`Method "${method}" not allowed.`);
  }
}

export class PayloadTooLarge extends DetailError {
  readonly status = 413;
  readonly code = 'payload_too_large';
  constructor(limit: number) {
    super(`Request body exceeds ${limit} bytes.`);
  }
}

/** A response that would pass a documented size limit (a statement's entries or bytes): narrow the request. */
export class StatementTooLarge extends DetailError {
  readonly status = 413;
  readonly code = 'statement_too_large';
}

export class UnsupportedMediaType extends DetailError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
  constructor(contentType: string) {
    super(`Unsupported media type "${contentType}" in request.`);
  }
}

/** The database refused or dropped us past the request's deadline (or is down). */
export class DatabaseUnavailable extends CodedError {
  readonly status = 503;
  readonly code = 'database_unavailable';
  constructor(options?: ErrorOptions, retryAfterSeconds = 1) {
    super('The database is busy or unavailable. Please retry shortly.', options);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** The invocation ran out of time (early timeout); its connection has been closed. */
export class RequestTimeout extends CodedError {
  readonly status = 504;
  readonly code = 'timeout';
  constructor(options?: ErrorOptions) {
    super('The request took too long and was cancelled.', options);
  }
}

/** Too many failed logins for one username: DRF's throttle message, with Retry-After. */
export class Throttled extends CodedError {
  readonly status = 429;
  readonly code = 'throttled';
  constructor(retryAfterSeconds: number) {
    const wait = Math.max(1, Math.ceil(retryAfterSeconds));
    super(`Request was throttled. Expected available in ${wait} second${wait === 1 ? '' : 's'}.`);
    this.headers = { 'Retry-After': String(wait) };
  }
}

/** A dependency other than the database (the JWT secret's SSM parameter) could not be reached. */
export class DependencyUnavailable extends CodedError {
  readonly status = 503;
  readonly code = 'dependency_unavailable';
  /** Which dependency failed, for the smoke test and the operator (never a secret). */
  constructor(readonly dependency: string, options?: ErrorOptions, retryAfterSeconds = 2) {
    super('A service this request needs is unavailable. Please retry shortly.', options);
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
  override body() {
    return { ...super.body(), dependency: this.dependency };
  }
}
