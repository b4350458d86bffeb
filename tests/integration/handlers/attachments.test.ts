import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as complete } from '../../../functions/complete-attachment.js';
import { handler as createAttachment } from '../../../functions/create-attachment.js';
import { handler as createTransaction } from '../../../functions/create-transaction.js';
import { handler as removeAttachment } from '../../../functions/delete-attachment.js';
import { handler as removeTransaction } from '../../../functions/delete-transaction.js';
import { handler as listAttachments } from '../../../functions/list-attachments.js';
import { handler as listTransactions } from '../../../functions/list-transactions.js';
import { objectKey } from '../../../lib/attachments/queries.js';
import { headObject } from '../../../lib/storage.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, peakConnections, resetData } from '../../support/db.js';
import { invoke, lambdaContext } from '../../support/events.js';

// Receipts against the run's real local S3 server (s3rver, tests/support/global-setup.ts): the
// client uploads with the presigned POST it is given (fetch + FormData, as a browser would),
// then the API checks what arrived. s3rver does not enforce the POST policy (docs), so a wrong
// size or type reaches the bucket here and /complete/ is what refuses it.

type Account = Awaited<ReturnType<typeof signUp>>;
let alice: Account;
let mallory: Account;

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(1200, 7), Buffer.from([0xff, 0xd9])]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

async function entryOf(account: Account): Promise<string> {
  const res = await invoke(createTransaction, { method: 'POST', path: '/api/transactions/', token: account.access, body: { type: 'expense', amount: '12.00' } });
  expect(res.status).toBe(201);
  return res.body.id;
}

const onEntry = (id: string, token: string, extra: object = {}) => ({
  path: `/api/transactions/${id}/attachments/`,
  pathParameters: { id },
  token,
  ...extra,
});
const onAttachment = (id: string, token: string, suffix = '', method = 'POST') => ({
  method,
  path: `/api/attachments/${id}/${suffix}`,
  pathParameters: { id },
  token,
});

async function start(token: string, entry: string, body: object) {
  return invoke(createAttachment, onEntry(entry, token, { method: 'POST', body }));
}

/** What a browser does with the presigned POST: every field, then the file, last. */
async function upload(presigned: { url: string; fields: Record<string, string> }, bytes: Buffer, type: string): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(presigned.fields)) form.append(k, v);
  form.append('file', new Blob([bytes], { type }), 'ignored-name');
  return fetch(presigned.url, { method: 'POST', body: form });
}

async function attach(token: string, entry: string, bytes: Buffer, type: string, filename = 'receipt.jpg') {
  const created = await start(token, entry, { filename, content_type: type, size: bytes.length });
  expect(created.status).toBe(201);
  expect((await upload(created.body.upload, bytes, type)).ok).toBe(true);
  const done = await invoke(complete, onAttachment(created.body.id, token, 'complete/'));
  expect(done.status).toBe(200);
  return done.body;
}

describe('receipts (attachments)', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
  });
  afterAll(() => expectNoAppConnections());

  it('uploads a JPEG and a PDF through the presigned POST, completes, lists and downloads them', async () => {
    const entry = await entryOf(alice);
    const created = await start(alice.access, entry, { filename: 'Café receipt.jpg', content_type: 'image/jpeg', size: JPEG.length });
    expect(created.status).toBe(201);
    expect(created.body.upload.fields['Content-Type']).toBe('image/jpeg');
    expect(created.body.upload.fields.key).toBe(objectKey(created.body.id));
    expect(created.body.upload.fields.key).not.toContain('Caf');
    expect(Date.parse(created.body.upload.expires_at)).toBeGreaterThan(Date.now());

    // Pending until /complete/ has found the object.
    const before = await invoke(listAttachments, onEntry(entry, alice.access));
    expect(before.body).toEqual([expect.objectContaining({ id: created.body.id, status: 'pending', url: null, url_expires_at: null })]);

    expect((await upload(created.body.upload, JPEG, 'image/jpeg')).ok).toBe(true);
    const done = await invoke(complete, onAttachment(created.body.id, alice.access, 'complete/'));
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ id: created.body.id, transaction: entry, filename: 'Café receipt.jpg', content_type: 'image/jpeg', size: JPEG.length, status: 'complete', created_by: alice.id });
    // Completing again answers the same.
    expect((await invoke(complete, onAttachment(created.body.id, alice.access, 'complete/'))).body).toEqual(done.body);

    await attach(alice.access, entry, PDF, 'application/pdf', 'invoice.pdf');
    const listed = await invoke(listAttachments, onEntry(entry, alice.access));
    expect(listed.status).toBe(200);
    expect(listed.body.map((a: { filename: string }) => a.filename)).toEqual(['Café receipt.jpg', 'invoice.pdf']);
    const [photo, pdf] = listed.body;
    const got = await fetch(photo.url);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(JPEG);
    expect(got.headers.get('content-type')).toBe('image/jpeg');
    expect(got.headers.get('content-disposition')).toMatch(/^inline;/);
    const gotPdf = await fetch(pdf.url);
    expect(Buffer.from(await gotPdf.arrayBuffer())).toEqual(PDF);
    // A PDF (or anything that is not an image) is a download, never rendered in a page.
    expect(gotPdf.headers.get('content-disposition')).toMatch(/^attachment; filename="invoice.pdf"/);
    expect(Date.parse(pdf.url_expires_at) - Date.now()).toBeLessThanOrEqual(5 * 60_000);

    // Lists of entries carry the count of complete attachments.
    const entries = await invoke(listTransactions, { path: '/api/transactions/', token: alice.access });
    const row = entries.body.results.find((t: { id: string }) => t.id === entry);
    expect(row.attachments).toBe(2);
    await expectNoAppConnections();
  });

  it('refuses at /complete/ a file whose size or type is not what was declared, and deletes it', async () => {
    const entry = await entryOf(alice);
    const big = await start(alice.access, entry, { filename: 'a.jpg', content_type: 'image/jpeg', size: 10 });
    // S3 would refuse this upload (content-length-range); s3rver stores it.
    await upload(big.body.upload, JPEG, 'image/jpeg');
    const refused = await invoke(complete, onAttachment(big.body.id, alice.access, 'complete/'));
    expect(refused.status).toBe(409);
    expect(await headObject(objectKey(big.body.id))).toBeUndefined();
    expect((await invoke(listAttachments, onEntry(entry, alice.access))).body).toEqual([]);

    const typed = await start(alice.access, entry, { filename: 'a.png', content_type: 'image/png', size: PDF.length });
    const form = { ...typed.body.upload, fields: { ...typed.body.upload.fields, 'Content-Type': 'text/html' } };
    await upload(form, PDF, 'text/html');
    expect((await invoke(complete, onAttachment(typed.body.id, alice.access, 'complete/'))).status).toBe(409);
    expect(await headObject(objectKey(typed.body.id))).toBeUndefined();
  });

  it('answers 409 and keeps the attachment pending when nothing was uploaded yet', async () => {
    const entry = await entryOf(alice);
    const created = await start(alice.access, entry, { filename: 'later.pdf', content_type: 'application/pdf', size: PDF.length });
    expect((await invoke(complete, onAttachment(created.body.id, alice.access, 'complete/'))).status).toBe(409);
    expect((await invoke(listAttachments, onEntry(entry, alice.access))).body).toEqual([expect.objectContaining({ status: 'pending' })]);
  });

  it('validates what is declared', async () => {
    const entry = await entryOf(alice);
    const bad = async (body: object) => (await start(alice.access, entry, body)).body;
    expect(await bad({ filename: 'x.gif', content_type: 'image/gif', size: 10 })).toHaveProperty('content_type');
    expect(await bad({ filename: 'x.jpg', content_type: 'image/jpeg', size: 10 * 1024 * 1024 + 1 })).toHaveProperty('size');
    expect(await bad({ filename: 'x.jpg', content_type: 'image/jpeg', size: 0 })).toHaveProperty('size');
    expect(await bad({ filename: 'a\u0007b.jpg', content_type: 'image/jpeg', size: 10 })).toHaveProperty('filename');
    expect(await bad({ filename: 'x'.repeat(256), content_type: 'image/jpeg', size: 10 })).toHaveProperty('filename');
    // Stored as NFC.
    const created = await start(alice.access, entry, { filename: 'Cafe\u0301.jpg', content_type: 'image/jpeg', size: 10 });
    const [row] = (await invoke(listAttachments, onEntry(entry, alice.access))).body;
    expect(row).toMatchObject({ id: created.body.id, filename: 'Caf\u00e9.jpg' });
  });

  it('refuses an 11th attachment on one entry', async () => {
    const entry = await entryOf(alice);
    for (let i = 0; i < 10; i++) expect((await start(alice.access, entry, { filename: `${i}.pdf`, content_type: 'application/pdf', size: 5 })).status).toBe(201);
    const eleventh = await start(alice.access, entry, { filename: '10.pdf', content_type: 'application/pdf', size: 5 });
    expect(eleventh.status).toBe(400);
    expect(eleventh.body.non_field_errors[0]).toMatch(/at most 10/);
  });

  it('refuses an upload beyond the user\'s quota', async () => {
    const entry = await entryOf(mallory);
    const quota = 1024 ** 3;
    const first = await start(mallory.access, entry, { filename: 'a.pdf', content_type: 'application/pdf', size: 10 * 1024 * 1024 });
    expect(first.status).toBe(201);
    // Bring mallory's usage to the edge of the quota.
    await adminQuery('UPDATE attachments SET size = $1 WHERE id = $2', [quota - 100, first.body.id]);
    expect((await start(mallory.access, entry, { filename: 'b.pdf', content_type: 'application/pdf', size: 100 })).status).toBe(201);
    const over = await start(mallory.access, entry, { filename: 'c.pdf', content_type: 'application/pdf', size: 1 });
    expect(over.status).toBe(400);
    expect(over.body.size[0]).toMatch(/quota/);
    await adminQuery('DELETE FROM attachments WHERE created_by = $1', [mallory.id]);
  });

  it('treats another user\'s entry and attachment as missing', async () => {
    const entry = await entryOf(alice);
    const mine = await attach(alice.access, entry, PDF, 'application/pdf');
    expect((await start(mallory.access, entry, { filename: 'x.pdf', content_type: 'application/pdf', size: 5 })).status).toBe(404);
    expect((await invoke(listAttachments, onEntry(entry, mallory.access))).status).toBe(404);
    expect((await invoke(complete, onAttachment(mine.id, mallory.access, 'complete/'))).status).toBe(404);
    expect((await invoke(removeAttachment, onAttachment(mine.id, mallory.access, '', 'DELETE'))).status).toBe(404);
    expect(await headObject(objectKey(mine.id))).toBeDefined();
  });

  it('deletes an attachment and its object', async () => {
    const entry = await entryOf(alice);
    const mine = await attach(alice.access, entry, JPEG, 'image/jpeg');
    const res = await invoke(removeAttachment, onAttachment(mine.id, alice.access, '', 'DELETE'));
    expect(res.status).toBe(204);
    expect(await headObject(objectKey(mine.id))).toBeUndefined();
    expect((await invoke(listAttachments, onEntry(entry, alice.access))).body).toEqual([]);
  });

  it('sweeps a key only once its upload can no longer arrive', async () => {
    const entry = await entryOf(alice);
    const created = await start(alice.access, entry, { filename: 'late.pdf', content_type: 'application/pdf', size: PDF.length });
    // Deleted while its upload is still on its way: the delete finds no object to remove...
    expect((await invoke(removeAttachment, onAttachment(created.body.id, alice.access, '', 'DELETE'))).status).toBe(204);
    const sweep = () => (removeAttachment as (e: unknown, c: unknown) => Promise<unknown>)({ source: 'aws.events' }, lambdaContext());
    await sweep();
    // ...and the upload lands afterwards. The key stays queued until its POST has expired.
    expect((await upload(created.body.upload, PDF, 'application/pdf')).ok).toBe(true);
    expect(await adminQuery('SELECT 1 FROM attachment_deletions WHERE object_key = $1', [objectKey(created.body.id)])).toHaveLength(1);
    await adminQuery("UPDATE attachment_deletions SET queued_at = now() - interval '21 minutes' WHERE object_key = $1", [objectKey(created.body.id)]);
    await sweep();
    expect(await headObject(objectKey(created.body.id))).toBeUndefined();
    expect(await adminQuery('SELECT 1 FROM attachment_deletions WHERE object_key = $1', [objectKey(created.body.id)])).toHaveLength(0);
  });

  it('deletes the objects of a deleted entry in the sweep, and pending uploads older than a day', async () => {
    const entry = await entryOf(alice);
    const kept = await attach(alice.access, entry, JPEG, 'image/jpeg');
    expect((await invoke(removeTransaction, { method: 'DELETE', path: `/api/transactions/${entry}/`, pathParameters: { id: entry }, token: alice.access })).status).toBe(204);
    // The entry's delete did not wait on S3: the object is queued.
    expect(await headObject(objectKey(kept.id))).toBeDefined();
    expect(await adminQuery('SELECT 1 FROM attachment_deletions WHERE object_key = $1', [objectKey(kept.id)])).toHaveLength(1);

    const other = await entryOf(alice);
    const stale = await start(alice.access, other, { filename: 'stale.jpg', content_type: 'image/jpeg', size: JPEG.length });
    await upload(stale.body.upload, JPEG, 'image/jpeg');
    await adminQuery("UPDATE attachments SET created_at = now() - interval '25 hours' WHERE id = $1", [stale.body.id]);

    // Queued keys wait until every presigned POST for them has expired (15 minutes).
    await adminQuery("UPDATE attachment_deletions SET queued_at = now() - interval '21 minutes' WHERE object_key = $1", [objectKey(kept.id)]);
    // The scheduled event (EventBridge) runs the sweep in deleteAttachment's function.
    const { result, peak } = await peakConnections(() => (removeAttachment as (e: unknown, c: unknown) => Promise<{ claimed: number; deleted: number }>)({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext()));
    expect(result.deleted).toBeGreaterThanOrEqual(2);
    // One connection at a time (through PgBouncer its idle pooled ones count too: at most its pool).
    expect(peak).toBeLessThanOrEqual(inject('pooler') ? inject('pooler')!.poolSize : 1);
    expect(await headObject(objectKey(kept.id))).toBeUndefined();
    expect(await headObject(objectKey(stale.body.id))).toBeUndefined();
    expect(await adminQuery('SELECT 1 FROM attachments WHERE id = $1', [stale.body.id])).toHaveLength(0);
    expect(await adminQuery('SELECT 1 FROM attachment_deletions WHERE object_key = $1', [objectKey(kept.id)])).toHaveLength(0);
    await expectNoAppConnections();
  });
});
