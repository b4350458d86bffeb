import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

// A local S3-compatible server for `npm start` and the tests: s3rver (npm, pure JavaScript: no
// Docker, no binary), with the stage's bucket and a CORS rule like the deployed bucket's, so a
// browser can POST a presigned upload to it. Its credentials are fixed: S3RVER / S3RVER.
//
// What s3rver does NOT check, unlike S3 (docs/configuration.md, "Local S3"): the POST policy
// (content-length-range, the Content-Type and key conditions; the policy's signature), and
// Signature V4 on any request (only a presigned URL's expiry). So locally an oversize or
// wrongly typed upload is stored, and /complete/ refuses it (HeadObject: size and type): the
// API's own check is the test of record; the signed policy is asserted by unit tests.

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** CORS as serverless.yml gives the deployed bucket: browsers may POST uploads and GET files. */
const cors = (origins: string[]) => `<CORSConfiguration>
  <CORSRule>
    ${origins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('\n    ')}
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  stop(): Promise<void>;
}

export async function startLocalS3(options: { directory: string; bucket: string; port?: number; origins?: string[] }): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket, configs: [cors(options.origins?.length ? options.origins : ['*'])] }],
  });
  const address = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket: options.bucket,
    stop: () => server.close(),
  };
}
