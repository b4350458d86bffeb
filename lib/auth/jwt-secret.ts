import { ConfigError, getConfig, type Config } from '../config.js';
import { DependencyUnavailable } from '../errors.js';

// The HS256 key. Local stages pass it in JWT_SECRET; deployed stages keep it in an SSM
// SecureString named by JWT_SECRET_SSM_PARAMETER, fetched on first use (cold start) and kept for
// the container's life. Why not in the template: a Lambda environment variable cannot hold a
// `{{resolve:ssm-secure:...}}` reference, and `${ssm:...}` would put the plaintext secret in the
// CloudFormation template (and need AWS credentials to package). The SSM client is imported
// lazily, so local stages and tests never load the AWS SDK.

export type SecretFetcher = (parameter: { name: string; region: string }) => Promise<string>;

const MIN_LENGTH = 32;

const ssmFetcher: SecretFetcher = async ({ name, region }) => {
  const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
  // Short limits: this runs inside a request, before any database connection is opened.
  const client = new SSMClient({ region, maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 } });
  try {
    const { Parameter } = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return Parameter?.Value ?? '';
  } finally {
    client.destroy();
  }
};

let fetcher: SecretFetcher = ssmFetcher;
let pending: Promise<string> | undefined;

/** For tests: replace the SSM fetcher and forget the cached secret. */
export function setSecretFetcher(next: SecretFetcher | undefined): void {
  fetcher = next ?? ssmFetcher;
  pending = undefined;
}

async function fetchSecret(parameter: { name: string; region: string }): Promise<string> {
  // No route, a throttle, a timeout, a denied or missing parameter: the request cannot be
  // served now, and the client may retry (503 + Retry-After, not 500). The cause is logged.
  const value = await fetcher(parameter).catch((err: unknown) => {
    throw new DependencyUnavailable('ssm', { cause: err });
  });
  // Names the parameter, never its value.
  if (value.length < MIN_LENGTH) {
    throw new ConfigError(`SSM parameter ${parameter.name} (JWT_SECRET_SSM_PARAMETER) must hold at least ${MIN_LENGTH} characters`);
  }
  return value;
}

/** The JWT signing key; concurrent first calls share one SSM request, a failure is not cached. */
export function jwtSecret(config: Config['jwt'] = getConfig().jwt): Promise<string> {
  if (config.secret !== undefined) return Promise.resolve(config.secret);
  if (!config.secretParameter) throw new ConfigError('JWT_SECRET or JWT_SECRET_SSM_PARAMETER is required');
  pending ??= fetchSecret(config.secretParameter).catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}
