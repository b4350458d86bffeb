import { createHash, X509Certificate } from 'node:crypto';
import { DeployError } from './deploy.js';

// The RDS CA bundle shipped with the functions (docs/deploy.md, "TLS"). RDS instances present
// certificates from regional RDS CAs (rds-ca-rsa2048-g1 and siblings), which are neither in
// Node's roots nor reliably in the Lambda runtime's /var/runtime/ca-cert.pem. `npm run deploy`
// takes the region's bundle from AWS's published trust store (or a file the deployer supplies),
// checks what it holds, compares its SHA-256 with the one pinned in certs/rds-ca-pins.json, and
// writes it to certs/rds-ca.pem, which serverless.yml packages into every zip.

/** Where the bundle goes (package.patterns in serverless.yml) and where it is found in Lambda. */
export const RDS_CA_FILE = 'certs/rds-ca.pem';
export const RDS_CA_PINS_FILE = 'certs/rds-ca-pins.json';

/** AWS's published per-region bundle (the global one is ~160 KB; a region's is a few KB). */
export const rdsCaUrl = (region: string) => `https://truststore.pki.rds.amazonaws.com/${region}/${region}-bundle.pem`;

export interface BundleCertificate {
  subject: string;
  validTo: string;
  fingerprint256: string;
}

/** Every certificate in a PEM bundle, checked: a CA, issued for Amazon RDS, the region named, one still valid. */
export function inspectRdsCaBundle(pem: string, region: string, now = new Date()): BundleCertificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new DeployError('the RDS CA bundle holds no PEM certificate');
  const certs = blocks.map((block, i) => {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      throw new DeployError(`the RDS CA bundle's certificate #${i + 1} does not parse`);
    }
    const subject = cert.subject.replace(/\n/g, ', ');
    if (!cert.ca) throw new DeployError(`the RDS CA bundle holds a certificate that is not a CA: ${subject}`);
    if (!/Amazon RDS/.test(subject)) throw new DeployError(`the RDS CA bundle holds a certificate not issued for Amazon RDS: ${subject}`);
    return { cert, info: { subject, validTo: cert.validTo, fingerprint256: cert.fingerprint256 } };
  });
  if (!certs.some(({ info }) => info.subject.includes(region))) {
    throw new DeployError(`the RDS CA bundle names no CA of region ${region}: is it another region's?`);
  }
  const valid = certs.filter(({ cert }) => new Date(cert.validFrom) <= now && now < new Date(cert.validTo));
  if (!valid.length) throw new DeployError('every certificate in the RDS CA bundle has expired or is not yet valid');
  return certs.map(({ info }) => info);
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface PreparedBundle {
  pem: string;
  sha256: string;
  certificates: BundleCertificate[];
  /** `new`: no pin for the region yet; the caller records it (trust on first use, reviewed in the commit). */
  pin: 'matched' | 'new';
  source: string;
}

/**
 * The bundle for `region`: the deployer's file when given, else AWS's trust store. A pinned hash
 * that differs stops the deploy (AWS added or retired a CA, or something is in the way): a person
 * reviews the listed certificates and updates the pin.
 */
export async function prepareRdsCa(options: {
  region: string;
  suppliedFile?: string;
  readFile: (path: string) => Promise<string>;
  fetch: (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;
  pins: Record<string, string>;
  now?: Date;
}): Promise<PreparedBundle> {
  const { region, pins } = options;
  let pem: string;
  let source: string;
  if (options.suppliedFile) {
    source = options.suppliedFile;
    pem = await options.readFile(options.suppliedFile);
  } else {
    source = rdsCaUrl(region);
    const res = await options.fetch(source).catch((err: unknown) => {
      throw new DeployError(`cannot fetch ${source} (${(err as Error).message}); download it elsewhere and set RDS_CA_BUNDLE=<file>`);
    });
    if (!res.ok) throw new DeployError(`${source} answered HTTP ${res.status}; check the region, or set RDS_CA_BUNDLE=<file>`);
    pem = await res.text();
  }
  const certificates = inspectRdsCaBundle(pem, region, options.now);
  const hash = sha256(pem);
  const pinned = pins[region];
  if (pinned && pinned !== hash) {
    throw new DeployError(
      `the RDS CA bundle for ${region} from ${source} has SHA-256 ${hash}, not the ${pinned} pinned in ${RDS_CA_PINS_FILE}: ` +
        `review its certificates (${certificates.map((c) => c.subject).join('; ')}) and update the pin`,
    );
  }
  return { pem, sha256: hash, certificates, pin: pinned ? 'matched' : 'new', source };
}

/**
 * What `npm run deploy -- --dry-run` packages in the bundle's place when no RDS_CA_BUNDLE is
 * given: it fetches nothing, so the zip check still runs on a file that says what it is. Never
 * deployed: the dry run packages into a temporary directory and puts the previous file back.
 */
export const DRY_RUN_STAND_IN_CA =
  '# STAND-IN written by `npm run deploy -- --dry-run`: NOT a certificate. A real deploy replaces it with\n' +
  "# the region's RDS CA bundle (fetched from AWS's trust store, or RDS_CA_BUNDLE) before packaging.\n";

/** certs/rds-ca-pins.json with `region` pinned to `hash`, regions in order (a stable diff to commit). */
export function pinsWith(pins: Record<string, string>, region: string, hash: string): string {
  const next = { ...pins, [region]: hash };
  const sorted = Object.fromEntries(Object.keys(next).sort().map((k) => [k, next[k]]));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}
