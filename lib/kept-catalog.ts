import type { KeptStatements } from './kept.js';
import { KEPT_LISTS } from './transactions/list.js';
import { KEPT_CREATES } from './transactions/queries.js';

/** Every set of kept statements, for `npm run migrate` (scripts/lib/kept-sync.ts). */
export const KEPT_CATALOG: readonly KeptStatements[] = [KEPT_LISTS, KEPT_CREATES];
