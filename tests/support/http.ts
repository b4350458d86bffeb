/** A JSON client for the API under test: `client.token` is sent as a Bearer token when set. */
export function apiClient(baseUrl: () => string) {
  const client = {
    token: '',
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(`${baseUrl()}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(client.token ? { authorization: `Bearer ${client.token}` } : {}),
          ...headers,
        },
        body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const json = (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : undefined;
      return { status: res.status, headers: res.headers, text, body: json };
    },
  };
  return client;
}
