import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { NotFound } from '../errors.js';
import { pageFields } from '../paging.js';

/** DRF PageNumberPagination's parameters; other query parameters pass through. */
export const pageQuery = z.looseObject(pageFields);

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The URL the client called, as DRF's build_absolute_uri sees it. */
function requestUrl(event: APIGatewayProxyEventV2): URL {
  const host = event.headers?.host ?? event.requestContext?.domainName ?? 'localhost';
  // Client-supplied headers: anything but http/https, or a host URL cannot hold, falls back.
  const forwarded = event.headers?.['x-forwarded-proto']?.split(',')[0]?.trim().toLowerCase();
  const proto = forwarded === 'http' || forwarded === 'https' ? forwarded : /^(localhost|127\.|\[::1\])/.test(host) ? 'http' : 'https';
  let url: URL;
  try {
    url = new URL(`${proto}://${host}${event.rawPath ?? '/'}`);
  } catch {
    url = new URL(`${proto}://${event.requestContext?.domainName || 'localhost'}`);
    url.pathname = event.rawPath ?? '/';
  }
  url.search = event.rawQueryString ?? '';
  return url;
}

function withPage(url: URL, page: number): string {
  const copy = new URL(url);
  if (page === 1) copy.searchParams.delete('page');
  else copy.searchParams.set('page', String(page));
  return copy.toString();
}

/** DRF's PageNumberPagination envelope; a page past the end is DRF's 404 "Invalid page.". */
export function paginate<T>(
  event: APIGatewayProxyEventV2,
  { page, page_size }: { page: number; page_size: number },
  { count, rows }: { count: number; rows: T[] },
): Page<T> {
  if (rows.length === 0 && page > 1) throw new NotFound('Invalid page.');
  const url = requestUrl(event);
  return {
    count,
    next: page * page_size < count ? withPage(url, page + 1) : null,
    previous: page > 1 ? withPage(url, page - 1) : null,
    results: rows,
  };
}
