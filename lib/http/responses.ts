import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError, RequestTimeout } from '../errors.js';

/** A handler result with its own status, headers or non-JSON body (CSV, HTML, replays). */
export class HttpReply {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** Send `body` as-is (a string) instead of JSON. */
    readonly raw = false,
  ) {}

  toResponse(): APIGatewayProxyStructuredResultV2 {
    // Bytes (a PDF, a workbook): API Gateway decodes the base64 body before sending it.
    if (this.body instanceof Uint8Array) {
      return { statusCode: this.statusCode, headers: this.headers, body: Buffer.from(this.body).toString('base64'), isBase64Encoded: true };
    }
    if (!this.raw) return json(this.statusCode, this.body, this.headers);
    return { statusCode: this.statusCode, headers: this.headers, body: String(this.body ?? '') };
  }
}

/** A CSV file the browser saves (as `filename`) instead of showing. */
export function csvAttachment(csv: string, filename: string): HttpReply {
  const headers = { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${filename}"` };
  return new HttpReply(200, csv, headers, true);
}

/** A file (PDF, XLSX) the browser saves as `filename`. */
export function fileAttachment(bytes: Uint8Array, contentType: string, filename: string): HttpReply {
  return new HttpReply(200, bytes, { 'Content-Type': contentType, 'Content-Disposition': `attachment; filename="${filename}"` });
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  if (statusCode === 204) return { statusCode, headers };
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body ?? {}) };
}

/** Every error becomes a DRF-shaped body; internals (stack, SQL, messages) never leave. */
export function errorResponse(error: unknown, requestId?: string): APIGatewayProxyStructuredResultV2 {
  if (error instanceof AppError) return json(error.status, error.body(), error.headers);
  // middy's own early-timeout error, if it ever escapes our timeoutEarlyResponse.
  if (error instanceof Error && error.name === 'TimeoutError') {
    const timeout = new RequestTimeout();
    return json(timeout.status, timeout.body());
  }
  return json(500, { detail: 'A server error occurred.', ...(requestId ? { request_id: requestId } : {}) });
}
