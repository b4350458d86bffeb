import type { S3Client } from '@aws-sdk/client-s3';
import { getConfig, type AttachmentsConfig } from './config.js';
import { DependencyUnavailable } from './errors.js';

// The one door to S3, as lib/db.ts is to PostgreSQL: the only file that imports the S3 client
// and the presigners. Domain code asks it for a signed upload, a signed download, what an object
// is, or to delete objects. The SDK is imported lazily (bundled once into functions/aws-sdk.mjs,
// scripts/esbuild-aws-sdk.cjs): functions that never touch S3 never load it. Nothing here may run
// while a database connection is held: callers release theirs first.

/** How long a presigned upload stays usable. */
export const UPLOAD_TTL_SECONDS = 15 * 60;
/** How long a presigned download stays usable: what a leaked URL allows, and for how long. */
export const DOWNLOAD_TTL_SECONDS = 5 * 60;

type Sdk = typeof import('@aws-sdk/client-s3');
let client: { s3: S3Client; sdk: Sdk; bucket: string } | undefined;

/** The bucket's name; a stage without one answers 503 on the attachment routes. */
function bucketOf(cfg: AttachmentsConfig): string {
  if (!cfg.bucket) throw new DependencyUnavailable('storage', { cause: new Error('ATTACHMENT_BUCKET is not set') });
  return cfg.bucket;
}

async function s3(): Promise<{ s3: S3Client; sdk: Sdk; bucket: string }> {
  if (client) return client;
  const cfg = getConfig().attachments;
  const bucket = bucketOf(cfg);
  const sdk = await import('@aws-sdk/client-s3');
  const s3 = new sdk.S3Client({
    region: cfg.region,
    // A local server (s3rver) serves path-style URLs: http://127.0.0.1:port/bucket/key.
    ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}),
    // Fail fast: an S3 call is never worth the invocation's whole budget. The HTTP handler's
    // timeouts default to none, so an unreachable S3 (a VPC with no endpoint) would hang until the
    // invocation's deadline (504) instead of a 503 naming the storage; and requestTimeout alone
    // only logs a warning unless throwOnRequestTimeout is set.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  });
  client = { s3, sdk, bucket };
  return client;
}

/** For tests: forget the client (another bucket or endpoint). */
export function resetStorage(): void {
  client = undefined;
}

/** S3 errors (other than "no such object") become a 503 naming the dependency, never a bare 500. */
const unavailable = (err: unknown) => new DependencyUnavailable('storage', { cause: err });

export interface UploadRequest {
  key: string;
  contentType: string;
  size: number;
}

type Condition = Record<string, string> | ['eq', string, string] | ['content-length-range', number, number];

/**
 * The policy's conditions: S3 itself refuses any other bucket, key or Content-Type, and any other
 * length (content-length-range pinned to the declared size). Exported for the unit tests: the
 * local server (s3rver) does not check a POST policy, so they assert it as signed.
 */
export function uploadConditions(req: UploadRequest, bucket: string): Condition[] {
  return [
    { bucket },
    ['eq', '$key', req.key],
    ['eq', '$Content-Type', req.contentType],
    ['content-length-range', req.size, req.size],
  ];
}

export interface SignedUpload {
  url: string;
  fields: Record<string, string>;
  expires_at: string;
}

/** A presigned POST for exactly one object: this key, this type, this many bytes (signed locally: no S3 call). */
export async function presignUpload(req: UploadRequest, now = Date.now()): Promise<SignedUpload> {
  const { s3: c, bucket } = await s3();
  const { createPresignedPost } = await import('@aws-sdk/s3-presigned-post');
  type Conditions = NonNullable<Parameters<typeof createPresignedPost>[1]['Conditions']>;
  try {
    const { url, fields } = await createPresignedPost(c, {
      Bucket: bucket,
      Key: req.key,
      Conditions: uploadConditions(req, bucket) as Conditions,
      Fields: { 'Content-Type': req.contentType },
      Expires: UPLOAD_TTL_SECONDS,
    });
    return { url, fields, expires_at: new Date(now + UPLOAD_TTL_SECONDS * 1000).toISOString() };
  } catch (err) {
    throw unavailable(err);
  }
}

/** `attachment` for anything but an image: a PDF, or a forged type, never renders in a page of ours. */
export function contentDisposition(filename: string, inline: boolean): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  // RFC 5987's attr-char excludes ' ( ) *, which encodeURIComponent leaves as they are.
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export interface SignedDownload {
  url: string;
  expires_at: string;
}

export interface Download {
  key: string;
  filename: string;
  contentType: string;
  inline: boolean;
}

/** Presigned GETs (no network: signing is local) that make S3 answer with our type and disposition. */
export async function presignDownloads(items: Download[], now = Date.now()): Promise<SignedDownload[]> {
  if (!items.length) return [];
  const { s3: c, sdk, bucket } = await s3();
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const expires_at = new Date(now + DOWNLOAD_TTL_SECONDS * 1000).toISOString();
  try {
    return await Promise.all(
      items.map(async (item) => ({
        url: await getSignedUrl(
          c,
          new sdk.GetObjectCommand({
            Bucket: bucket,
            Key: item.key,
            ResponseContentType: item.contentType,
            ResponseContentDisposition: contentDisposition(item.filename, item.inline),
          }),
          { expiresIn: DOWNLOAD_TTL_SECONDS },
        ),
        expires_at,
      })),
    );
  } catch (err) {
    throw unavailable(err);
  }
}

/** What S3 holds under `key`: its size and Content-Type, or undefined when there is no object. */
export async function headObject(key: string): Promise<{ size: number; contentType: string | undefined } | undefined> {
  const { s3: c, sdk, bucket } = await s3();
  try {
    const head = await c.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: Number(head.ContentLength ?? -1), contentType: head.ContentType };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    // The functions may not list the bucket (no s3:ListBucket, serverless.yml), and then S3
    // answers a HEAD of a missing key with 403, not 404: both mean "no object" here. A role
    // without s3:GetObject would read the same, and every /complete/ would answer 409: the
    // template test checks the grant.
    if (status === 404 || status === 403 || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return undefined;
    throw unavailable(err);
  }
}

/** Deletes objects (a missing one counts as deleted, as S3 says); returns the keys it deleted. */
export async function deleteObjects(keys: string[]): Promise<string[]> {
  if (!keys.length) return [];
  const { s3: c, sdk, bucket } = await s3();
  // One DeleteObject per key, a few at a time: simple, and a failure spares the others.
  const done: string[] = [];
  for (let i = 0; i < keys.length; i += 10) {
    const batch = keys.slice(i, i + 10);
    const results = await Promise.allSettled(batch.map((key) => c.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }))));
    results.forEach((r, j) => {
      if (r.status === 'fulfilled') done.push(batch[j]!);
    });
  }
  return done;
}
