import { FALLBACKS, handlerFile, ROUTES } from '../../lib/routes/index.js';

type HttpApiEvent = { httpApi: { method: string; path: string } | '*' } | { schedule: { rate: string[]; description: string } };

export interface ServerlessFunction {
  handler: string;
  events: HttpApiEvent[];
  reservedConcurrency?: number;
  package: { patterns: string[] };
}

/**
 * The lazily loaded AWS SDK file a function's zip carries (scripts/esbuild-aws-sdk.cjs): the
 * attachment functions load `aws-sdk-s3.mjs` (the SDK with S3), every other one `aws-sdk.mjs`.
 */
export const sdkFileOf = (name: string): string =>
  (ROUTES as Record<string, { tag?: string }>)[name]?.tag === 'attachments' ? 'functions/aws-sdk-s3.mjs' : 'functions/aws-sdk.mjs';
const SDK_FILES = ['functions/aws-sdk.mjs', 'functions/aws-sdk-s3.mjs'];

/**
 * serverless.yml's `functions:`, from the route table: one function per route, methodNotAllowed
 * on every route's path (ANY: API Gateway prefers the method-specific routes, so it answers the
 * other methods and CORS preflight), and notFound for every other path. `reserved` is the stage's
 * `reservedConcurrency` param; a function without an entry reserves none.
 */
export function serverlessFunctions(reserved: Record<string, number> = {}): Record<string, ServerlessFunction> {
  const fn = (name: string, events: HttpApiEvent[]): [string, ServerlessFunction] => [
    name,
    {
      handler: handlerFile(name).replace(/\.ts$/, '.handler'),
      events,
      // Leave out the SDK file this function never loads.
      package: { patterns: SDK_FILES.filter((f) => f !== sdkFileOf(name)).map((f) => `!${f}`) },
      ...(Object.hasOwn(reserved, name) ? { reservedConcurrency: reserved[name] } : {}),
    },
  ];
  const routes = Object.entries(ROUTES);
  const paths = [...new Set(routes.map(([, route]) => route.path))];
  const fallbacks: Record<keyof typeof FALLBACKS, HttpApiEvent[]> = {
    methodNotAllowed: paths.map((path) => ({ httpApi: { method: 'ANY', path } })),
    notFound: [{ httpApi: '*' }],
  };
  return Object.fromEntries([
    ...routes.map(([name, route]) =>
      fn(name, [
        { httpApi: { method: route.method, path: route.path } },
        // The route's function also runs on a schedule (the attachment sweep): same function, same reservation.
        ...('schedule' in route && route.schedule ? [{ schedule: { rate: [route.schedule], description: `${name}: scheduled run` } }] : []),
      ]),
    ),
    ...Object.entries(fallbacks).map(([name, events]) => fn(name, events)),
  ]);
}
