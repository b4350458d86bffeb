import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOffline, type Offline } from '../../scripts/lib/offline.js';
import { CHROMIUM, describeWith } from '../support/components.js';
import { expectNoAppConnections, resetData } from '../support/db.js';
import { apiClient } from '../support/http.js';

// Receipts through serverless-offline and the run's local S3 (s3rver): the API hands out a
// presigned POST, the client (Node's fetch, and headless Chromium's) uploads straight to S3,
// then completes, lists and downloads the bytes back.

let api: Offline;
const alice = apiClient(() => api.baseUrl);
const mallory = apiClient(() => api.baseUrl);

// A tiny but real JPEG header and a minimal PDF: the API never reads the bytes, S3 stores them.
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), Buffer.alloc(3000, 1), Buffer.from([0xff, 0xd9])]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

async function signIn(client: typeof alice, username: string) {
  const credentials = { username, password: 'correct-horse' };
  expect((await client.call('POST', '/api/register/', credentials)).status).toBe(201);
  client.token = (await client.call('POST', '/api/token/', credentials)).body.access;
}

async function upload(presigned: { url: string; fields: Record<string, string> }, bytes: Buffer, type: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries(presigned.fields)) form.append(k, v);
  form.append('file', new Blob([bytes], { type }));
  return fetch(presigned.url, { method: 'POST', body: form });
}

describe('receipts over HTTP', () => {
  let entry = '';
  beforeAll(async () => {
    await resetData();
    api = await startOffline({ DATABASE_URL: inject('appUrl'), JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'silent' });
    await signIn(alice, 'e2e-receipts');
    await signIn(mallory, 'e2e-mallory');
    entry = (await alice.call('POST', '/api/transactions/', { type: 'expense', amount: '42.00', category: 'Dinner' })).body.id;
  });
  afterAll(async () => {
    await api?.stop();
    await expectNoAppConnections();
  });

  it('uploads a JPEG and a PDF with Node fetch, completes, lists and downloads the same bytes', async () => {
    for (const [bytes, type, filename] of [[JPEG, 'image/jpeg', 'dinner.jpg'], [PDF, 'application/pdf', 'invoice.pdf']] as const) {
      const created = await alice.call('POST', `/api/transactions/${entry}/attachments/`, { filename, content_type: type, size: bytes.length });
      expect(created.status).toBe(201);
      expect((await upload(created.body.upload, bytes, type)).status).toBe(204);
      const done = await alice.call('POST', `/api/attachments/${created.body.id}/complete`);
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('complete');
    }
    const listed = await alice.call('GET', `/api/transactions/${entry}/attachments`);
    expect(listed.body.map((a: { filename: string }) => a.filename)).toEqual(['dinner.jpg', 'invoice.pdf']);
    expect(Buffer.from(await (await fetch(listed.body[0].url)).arrayBuffer())).toEqual(JPEG);
    const pdf = await fetch(listed.body[1].url);
    expect(Buffer.from(await pdf.arrayBuffer())).toEqual(PDF);
    expect(pdf.headers.get('content-disposition')).toMatch(/^attachment;/);
    const page = await alice.call('GET', '/api/transactions/');
    expect(page.body.results.find((t: { id: string }) => t.id === entry).attachments).toBe(2);
  });

  it('refuses an oversize upload and a wrong content type at /complete/ (s3rver does not enforce the policy)', async () => {
    const small = await alice.call('POST', `/api/transactions/${entry}/attachments/`, { filename: 'x.jpg', content_type: 'image/jpeg', size: 100 });
    await upload(small.body.upload, JPEG, 'image/jpeg');
    expect((await alice.call('POST', `/api/attachments/${small.body.id}/complete/`)).status).toBe(409);
    const typed = await alice.call('POST', `/api/transactions/${entry}/attachments/`, { filename: 'x.pdf', content_type: 'application/pdf', size: PDF.length });
    await upload({ ...typed.body.upload, fields: { ...typed.body.upload.fields, 'Content-Type': 'text/html' } }, PDF, 'text/html');
    expect((await alice.call('POST', `/api/attachments/${typed.body.id}/complete/`)).status).toBe(409);
    expect((await alice.call('GET', `/api/transactions/${entry}/attachments/`)).body).toHaveLength(2);
  });

  it('answers another user 404 for the entry and its attachments', async () => {
    const [first] = (await alice.call('GET', `/api/transactions/${entry}/attachments/`)).body;
    expect((await mallory.call('GET', `/api/transactions/${entry}/attachments/`)).status).toBe(404);
    expect((await mallory.call('POST', `/api/transactions/${entry}/attachments/`, { filename: 'x.pdf', content_type: 'application/pdf', size: 5 })).status).toBe(404);
    expect((await mallory.call('POST', `/api/attachments/${first.id}/complete/`)).status).toBe(404);
    expect((await mallory.call('DELETE', `/api/attachments/${first.id}/`)).status).toBe(404);
  });

  describeWith(['chromium'], 'from headless Chromium', () => {
    it('uploads with the browser\'s fetch and FormData, and downloads the file back', async () => {
      const created = await alice.call('POST', `/api/transactions/${entry}/attachments/`, { filename: 'scan.pdf', content_type: 'application/pdf', size: PDF.length });
      expect(created.status).toBe(201);
      const profile = mkdtempSync(join(tmpdir(), 'cashbook-chromium-'));
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const page = await browser.newPage();
        // A cross-origin POST to the bucket, as a web app would make it (the bucket's CORS rule answers).
        const status = await page.evaluate(
          async ({ upload, text }) => {
            const form = new FormData();
            for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
            form.append('file', new Blob([text], { type: 'application/pdf' }), 'scan.pdf');
            return (await fetch(upload.url, { method: 'POST', body: form })).status;
          },
          { upload: created.body.upload as { url: string; fields: Record<string, string> }, text: PDF.toString('latin1') },
        );
        expect(status).toBe(204);
        expect((await alice.call('POST', `/api/attachments/${created.body.id}/complete/`)).status).toBe(200);
        const listed = (await alice.call('GET', `/api/transactions/${entry}/attachments/`)).body as Array<{ id: string; url: string }>;
        const url = listed.find((a) => a.id === created.body.id)!.url;
        const downloaded = await page.evaluate(async (u) => new TextDecoder('latin1').decode(await (await fetch(u)).arrayBuffer()), url);
        expect(Buffer.from(downloaded, 'latin1')).toEqual(PDF);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    }, 90_000);
  });
});
