import type { DatabaseConfig } from './config.js';

// IAM database auth tokens are valid for 15 minutes; reuse one per container for 10 so a
// connection never starts with a token about to expire. The signer is imported lazily:
// cold starts with password auth never load the AWS SDK.

export const TOKEN_REUSE_MS = 10 * 60 * 1000;

type Signer = { getAuthToken(): Promise<string> };
export type SignerFactory = (cfg: DatabaseConfig) => Promise<Signer>;

const defaultFactory: SignerFactory = async (cfg) => {
  const { Signer } = await import('@aws-sdk/rds-signer');
  return new Signer({ hostname: cfg.host, port: cfg.port, username: cfg.user, region: cfg.region });
};

let factory: SignerFactory = defaultFactory;
let cached: { key: string; token: string; at: number } | undefined;

/** For tests: replace the signer factory and forget the cached token. */
export function setSignerFactory(next: SignerFactory | undefined): void {
  factory = next ?? defaultFactory;
  cached = undefined;
}

export async function iamAuthToken(cfg: DatabaseConfig, now = Date.now()): Promise<string> {
  const key = `${cfg.host}:${cfg.port}:${cfg.user}:${cfg.region}`;
  if (cached && cached.key === key && now - cached.at < TOKEN_REUSE_MS) return cached.token;
  const token = await (await factory(cfg)).getAuthToken();
  cached = { key, token, at: now };
  return token;
}
