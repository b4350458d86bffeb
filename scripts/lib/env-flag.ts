/**
 * Whether an environment variable such as CI is set the way CI systems set it. One reading for
 * the deploy (an unpinned region is refused under CI) and the tests (a missing component fails).
 */
export const isTruthyEnv = (value: string | undefined) => /^(1|true|yes)$/i.test(value ?? '');
