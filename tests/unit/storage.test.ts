import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentDisposition, presignUpload, uploadConditions, UPLOAD_TTL_SECONDS } from '../../lib/storage.js';

// The presigned POST's policy is what makes S3 itself refuse an oversize or wrongly typed upload.
// The local server (s3rver) does not check a policy, so these tests read the policy as signed:
// its conditions, its expiry, and that the signature covers exactly that policy document.

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4's signing key for S3 (the tests' credentials are s3rver's, tests/support/env.ts). */
function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

describe('presigned upload (POST policy)', () => {
  const request = { key: 'attachments/5f0c8f2e-3b9e-4a57-9d0e-2d3c1b0a9f8e', contentType: 'image/jpeg', size: 48_213 };

  it('pins the key, the Content-Type and the exact length', async () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    const upload = await presignUpload(request, now);
    const policy = JSON.parse(Buffer.from(upload.fields.Policy!, 'base64').toString('utf8'));
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['eq', '$key', request.key],
        ['eq', '$Content-Type', 'image/jpeg'],
        ['content-length-range', 48_213, 48_213],
        { bucket: process.env.ATTACHMENT_BUCKET },
        { key: request.key },
      ]),
    );
    // No condition lets anything else through (no starts-with, no second length range).
    expect(policy.conditions.filter((c: unknown) => Array.isArray(c) && c[0] === 'starts-with')).toEqual([]);
    expect(policy.conditions.filter((c: unknown) => Array.isArray(c) && c[0] === 'content-length-range')).toHaveLength(1);
    expect(upload.fields).toMatchObject({ key: request.key, 'Content-Type': 'image/jpeg', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' });
    expect(upload.expires_at).toBe(new Date(now + UPLOAD_TTL_SECONDS * 1000).toISOString());
    // The policy expires with the upload (the SDK dates it from its own clock).
    expect(Date.parse(policy.expiration) - Date.now()).toBeLessThanOrEqual(UPLOAD_TTL_SECONDS * 1000 + 1000);
  });

  it('signs exactly that policy (SigV4 over the base64 document)', async () => {
    const upload = await presignUpload(request);
    const [, date, region] = upload.fields['X-Amz-Credential']!.split('/');
    const expected = hmac(signingKey(process.env.AWS_SECRET_ACCESS_KEY!, date!, region!), upload.fields.Policy!).toString('hex');
    expect(upload.fields['X-Amz-Signature']).toBe(expected);
  });

  it('lists the conditions it signs', () => {
    expect(uploadConditions(request, 'b')).toEqual([
      { bucket: 'b' },
      ['eq', '$key', request.key],
      ['eq', '$Content-Type', 'image/jpeg'],
      ['content-length-range', 48_213, 48_213],
    ]);
  });
});

describe('Content-Disposition of a download', () => {
  it('is an attachment for anything but an image, inline for images', () => {
    expect(contentDisposition('invoice.pdf', false)).toBe(`attachment; filename="invoice.pdf"; filename*=UTF-8''invoice.pdf`);
    expect(contentDisposition('bill.jpg', true)).toMatch(/^inline; /);
  });

  it('keeps quotes, backslashes and non-ASCII out of the plain filename, and encodes the rest', () => {
    const header = contentDisposition('a"b\\c é.pdf', false);
    expect(header).toBe(`attachment; filename="a_b_c _.pdf"; filename*=UTF-8''a%22b%5Cc%20%C3%A9.pdf`);
    expect(header).not.toMatch(/[\r\n]/);
  });
});
