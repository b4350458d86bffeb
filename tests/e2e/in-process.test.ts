import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoAppConnections, peakConnections, resetData } from '../support/db.js';
import { localRunner, startOffline, type Offline } from '../../scripts/lib/offline.js';
import { apiClient } from '../support/http.js';

// LOCAL_RUNNER=in-process (scripts/lib/offline.ts): one module instance per function serves
// concurrent invocations, where Lambda (and the default runner) gives each its own container.
// Nothing of one request may leak into another, and each still holds at most one connection.

let api: Offline;

describe('serverless-offline with LOCAL_RUNNER=in-process', () => {
  beforeAll(async () => {
    await resetData();
    api = await startOffline({ DATABASE_URL: inject('appUrl'), JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'silent' }, 90_000, 'test', undefined, 'in-process');
  });
  afterAll(async () => {
    await api?.stop();
    await expectNoAppConnections();
  });

  it('accepts only the runners it knows', () => {
    expect(localRunner(undefined)).toBe('workers');
    expect(localRunner('in-process')).toBe('in-process');
    expect(() => localRunner('threads')).toThrow('LOCAL_RUNNER must be one of workers, in-process, not "threads"');
  });

  it('serves concurrent writes and reads of different users apart, on at most the role limit of connections', async () => {
    const users = await Promise.all(
      ['inproc-a', 'inproc-b', 'inproc-c'].map(async (username) => {
        const client = apiClient(() => api.baseUrl);
        const credentials = { username, password: 'correct-horse' };
        expect((await client.call('POST', '/api/register/', credentials)).status).toBe(201);
        client.token = (await client.call('POST', '/api/token/', credentials)).body.access;
        return { username, client };
      }),
    );
    const { result, peak } = await peakConnections(() =>
      Promise.all(
        users.flatMap(({ username, client }) =>
          Array.from({ length: 8 }, (_, i) =>
            i % 2 === 0
              ? client.call('POST', '/api/transactions/', { type: 'expense', amount: `${i + 1}.00`, category: username })
              : client.call('GET', '/api/transactions/?page_size=50'),
          ),
        ),
      ),
    );
    expect(result.map((r) => r.status).sort()).toEqual([...Array(12).fill(200), ...Array(12).fill(201)]);
    expect(peak).toBeLessThanOrEqual(2);
    for (const { username, client } of users) {
      const listed = await client.call('GET', '/api/transactions/?page_size=50');
      expect(listed.body.count).toBe(4);
      expect(listed.body.results.map((r: { category: string }) => r.category)).toEqual(Array(4).fill(username));
    }
    await expectNoAppConnections();
  });
});
