import { describe, expect, it } from 'vitest';
import { NotFound } from '../../../lib/errors.js';
import { paginate } from '../../../lib/http/pagination.js';
import { apiEvent } from '../../support/events.js';

const list = (query: Record<string, string> = {}, headers?: Record<string, string>) =>
  apiEvent({ path: '/api/transactions/', query, ...(headers ? { headers } : {}) });

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i }));

describe('paginate', () => {
  it('returns DRF’s envelope with the rows as results', () => {
    const page = paginate(list(), { page: 1, page_size: 2 }, { count: 2, rows: rows(2) });
    expect(page).toEqual({ count: 2, next: null, previous: null, results: rows(2) });
  });

  it('links the next page from the first, keeping other query parameters', () => {
    const page = paginate(list({ type: 'income' }), { page: 1, page_size: 2 }, { count: 5, rows: rows(2) });
    expect(page.next).toBe('https://api.example.com/api/transactions/?type=income&page=2');
    expect(page.previous).toBeNull();
  });

  it('replaces the page parameter in place for next and previous', () => {
    const page = paginate(list({ page: '2', type: 'income', page_size: '2' }), { page: 2, page_size: 2 }, {
      count: 5,
      rows: rows(2),
    });
    expect(page.next).toBe('https://api.example.com/api/transactions/?page=3&type=income&page_size=2');
    expect(page.previous).toBe('https://api.example.com/api/transactions/?type=income&page_size=2');
  });

  it('drops the query string entirely when page was its only parameter and previous is page 1', () => {
    const page = paginate(list({ page: '2' }), { page: 2, page_size: 2 }, { count: 4, rows: rows(2) });
    expect(page.previous).toBe('https://api.example.com/api/transactions/');
    expect(page.next).toBeNull();
  });

  it('links page n-1 from page n > 2', () => {
    const page = paginate(list({ page: '3' }), { page: 3, page_size: 2 }, { count: 6, rows: rows(2) });
    expect(page.previous).toBe('https://api.example.com/api/transactions/?page=2');
  });

  it('has no next link on the last, partial page', () => {
    const page = paginate(list({ page: '3' }), { page: 3, page_size: 2 }, { count: 5, rows: rows(1) });
    expect(page.next).toBeNull();
    expect(page.previous).not.toBeNull();
  });

  it('answers page 1 of nothing with an empty list', () => {
    expect(paginate(list(), { page: 1, page_size: 50 }, { count: 0, rows: [] })).toEqual({
      count: 0,
      next: null,
      previous: null,
      results: [],
    });
  });

  it('refuses a page past the end with 404 "Invalid page."', () => {
    let err: unknown;
    try {
      paginate(list({ page: '4' }), { page: 4, page_size: 2 }, { count: 5, rows: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotFound);
    expect((err as NotFound).body()).toEqual({ detail: 'Invalid page.' });
  });

  it('uses http for localhost without x-forwarded-proto', () => {
    const event = apiEvent({ path: '/api/transactions/', headers: { host: 'localhost:3000' } });
    delete event.headers['x-forwarded-proto'];
    const page = paginate(event, { page: 1, page_size: 1 }, { count: 2, rows: rows(1) });
    expect(page.next).toBe('http://localhost:3000/api/transactions/?page=2');
  });

  it('falls back to the API’s domain name when there is no host header', () => {
    const event = apiEvent({ path: '/api/transactions/' });
    delete event.headers.host;
    const page = paginate(event, { page: 1, page_size: 1 }, { count: 2, rows: rows(1) });
    expect(page.next).toBe('https://api.example.com/api/transactions/?page=2');
  });
});

describe('links from hostile headers', () => {
  it('falls back to the API domain when Host or X-Forwarded-Proto cannot form a URL', () => {
    for (const headers of <Array<Record<string, string>>>[{ 'x-forwarded-proto': '' }, { 'x-forwarded-proto': 'javascript' }, { host: 'a b' }, { host: '[' }]) {
      const page = paginate(apiEvent({ path: '/api/transactions/', headers }), { page: 1, page_size: 1 }, { count: 2, rows: [{}] });
      expect(page.next).toMatch(/^https?:\/\/[^ ]+\/api\/transactions\/\?page=2$/);
    }
  });
});
