import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModule, parseSync } from 'libpg-query';

// The expand-only rule for migrations (docs/deploy.md, "Rollback"). Migrations run before the new
// code goes live, and a failed smoke test puts the previous code back on the new schema, so a
// release's migrations only expand: new tables, new nullable (or defaulted) columns, new
// non-unique indexes, new functions. Anything that removes, renames, retypes or tightens what the
// previous release reads or writes comes a release after the code stops needing it, in a
// migration that says why with a `-- contract: <reason>` line. The SQL is read with PostgreSQL's
// own parser (libpg-query, the server's grammar compiled to WebAssembly), not with patterns.

/** Written before the first deploy: no release ever ran on the schema before them. */
export const BEFORE_FIRST_DEPLOY = ['1764000001000_books.sql'];

export interface ContractingStatement {
  /** The statement's text, as written. */
  sql: string;
  /** Why the previous release may fail on the schema it leaves. */
  reason: string;
}

type Node = Record<string, any>;

/** The up part of a node-pg-migrate SQL file. */
export const upMigration = (text: string) => text.split(/^-- Down Migration/m)[0]!;

/** A `-- contract: <why>` line: the migration knowingly contracts the schema. */
export const contractReason = (text: string) => /^-- contract: (.+)$/m.exec(upMigration(text))?.[1]?.trim();

const relName = (relation: Node | undefined) => String(relation?.relname ?? '').toLowerCase();
const constraintsOf = (column: Node): Node[] => (column.constraints ?? []).map((c: Node) => c.Constraint ?? {});

/** ALTER TABLE subcommands that change nothing the previous release relies on. */
const EXPANDING_ALTER_TABLE = new Set([
  'AT_AddColumn', // checked below: not NOT NULL without a default, not unique with one
  'AT_ColumnDefault', // checked below: SET DEFAULT only
  'AT_ValidateConstraint', // checks the rows already there against a constraint new writes already meet
  'AT_SetStatistics',
  'AT_SetOptions',
  'AT_ResetOptions',
  'AT_SetStorage',
  'AT_SetCompression',
  'AT_ClusterOn',
  'AT_DropCluster',
  'AT_SetRelOptions',
  'AT_ResetRelOptions',
  'AT_ReplaceRelOptions',
  'AT_ChangeOwner',
  'AT_ReplicaIdentity',
  'AT_AddIdentity',
  'AT_SetIdentity',
  'AT_EnableTrig',
  'AT_EnableAlwaysTrig',
  'AT_EnableReplicaTrig',
]);

/** Statement kinds that only add (or only touch data, which the schema rule does not cover). */
const EXPANDING_STATEMENTS = new Set([
  'CreateStmt',
  'CreateTableAsStmt',
  'CreateExtensionStmt',
  'CreateSeqStmt',
  'AlterSeqStmt',
  'CreateEnumStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'CreateSchemaStmt',
  'DefineStmt',
  'CommentStmt',
  'CreatePolicyStmt',
  'AlterOwnerStmt',
  'AlterDefaultPrivilegesStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'SelectStmt',
  'VariableSetStmt',
  'TransactionStmt',
  'AlterTableStmt', // checked below, subcommand by subcommand
  'IndexStmt', // checked below
  'CreateFunctionStmt', // checked below
  'CreateTrigStmt', // checked below
  'ViewStmt', // checked below
  'AlterEnumStmt', // checked below
  'GrantStmt', // checked below
  'GrantRoleStmt', // checked below
]);

/** Why one ALTER TABLE subcommand contracts the table, or undefined when it only expands. */
function alterTableReason(cmd: Node, table: string): string | undefined {
  const subtype: string = cmd.subtype;
  const column = cmd.name ? ` ${cmd.name}` : '';
  switch (subtype) {
    case 'AT_DropColumn':
      return `drops column${column} of ${table}, which the previous release may read or write`;
    case 'AT_AlterColumnType':
      return `changes the type of column${column} of ${table}`;
    case 'AT_SetNotNull':
      return `sets column${column} of ${table} NOT NULL: the previous release's writes that leave it out fail`;
    case 'AT_DropNotNull':
      return `drops NOT NULL from column${column} of ${table}: the previous release may read NULLs it never expected`;
    case 'AT_DropConstraint':
      return `drops constraint ${cmd.name} of ${table}`;
    case 'AT_DropIdentity':
      return `drops the identity of column${column} of ${table}: the previous release's inserts that leave it out fail`;
    case 'AT_AddIndex':
    case 'AT_AddIndexConstraint':
      return `adds a unique index or key to ${table}: the previous release's writes are checked against it`;
    case 'AT_AddConstraint': {
      const c: Node = cmd.def?.Constraint ?? {};
      const kind = { CONSTR_PRIMARY: 'PRIMARY KEY', CONSTR_FOREIGN: 'FOREIGN KEY', CONSTR_EXCLUSION: 'EXCLUDE' }[String(c.contype)] ?? String(c.contype ?? '').replace('CONSTR_', '');
      const name = c.conname ? ` ${c.conname}` : '';
      // NOT VALID only skips the rows already there: every write, the previous release's
      // included, is checked from the moment the constraint exists.
      const notValid = c.skip_validation ? ' (NOT VALID skips only the rows already there; new writes are checked)' : '';
      return `adds ${kind} constraint${name} to ${table}: the previous release's writes are checked against it${notValid}`;
    }
    case 'AT_AddColumn': {
      const def: Node = cmd.def?.ColumnDef ?? {};
      const constraints = constraintsOf(def);
      const has = (type: string) => constraints.some((c) => c.contype === type);
      const fills = has('CONSTR_DEFAULT') || has('CONSTR_IDENTITY') || has('CONSTR_GENERATED');
      if ((has('CONSTR_NOTNULL') || has('CONSTR_PRIMARY')) && !fills) {
        return `adds column ${def.colname} to ${table} NOT NULL without a default: the previous release's inserts, which leave it out, fail`;
      }
      if ((has('CONSTR_UNIQUE') || has('CONSTR_PRIMARY') || has('CONSTR_EXCLUSION')) && fills) {
        return `adds column ${def.colname} to ${table} unique with a default: the previous release's inserts all get the default and collide`;
      }
      return undefined;
    }
    case 'AT_ColumnDefault':
      return cmd.def ? undefined : `drops the default of column${column} of ${table}: the previous release's inserts that leave it out change meaning or fail`;
    default:
      return EXPANDING_ALTER_TABLE.has(subtype)
        ? undefined
        : `${subtype.replace(/^AT_/, 'ALTER TABLE ')} on ${table} is not known to be safe for the previous release`;
  }
}

/** Why one parsed statement contracts the schema, or undefined. `created`: tables created earlier in the same migration. */
function statementReason(stmt: Node, created: Set<string>): string | undefined {
  const [kind] = Object.keys(stmt) as [string];
  const node: Node = stmt[kind];
  switch (kind) {
    case 'DropStmt':
      return `drops ${String(node.removeType ?? '').replace('OBJECT_', '').toLowerCase()} objects the previous release may use`;
    case 'RenameStmt':
      return `renames ${String(node.renameType ?? '').replace('OBJECT_', '').toLowerCase()} ${node.subname ?? relName(node.relation)} to ${node.newname}, a name the previous release uses`;
    case 'TruncateStmt':
      return 'empties tables the previous release reads';
    case 'DoStmt':
      return 'runs procedural code (DO) that the guard cannot read';
    case 'RuleStmt':
      return 'creates a rule, which rewrites the previous release\'s statements';
    case 'AlterTableStmt': {
      const table = relName(node.relation);
      if (created.has(table)) return undefined;
      const reasons = (node.cmds ?? []).map((c: Node) => alterTableReason(c.AlterTableCmd ?? {}, table)).filter(Boolean);
      return reasons.length ? reasons.join('; ') : undefined;
    }
    case 'IndexStmt':
      return node.unique && !created.has(relName(node.relation))
        ? `creates a unique index on ${relName(node.relation)}, which already exists: the previous release's writes are checked against it`
        : undefined;
    case 'CreateFunctionStmt':
      return node.replace ? 'replaces a function (OR REPLACE) the previous release may call' : undefined;
    case 'CreateTrigStmt':
      return node.replace ? 'replaces a trigger (OR REPLACE)' : undefined;
    case 'ViewStmt':
      return node.replace ? 'replaces a view (OR REPLACE) the previous release may read' : undefined;
    case 'AlterEnumStmt':
      return node.oldVal ? `renames enum value ${node.oldVal}` : undefined;
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return node.is_grant ? undefined : 'revokes privileges the previous release may need';
    default:
      return EXPANDING_STATEMENTS.has(kind) ? undefined : `${kind} is not known to be safe for the previous release`;
  }
}

let loaded: Promise<void> | undefined;

/** Loads the parser (WebAssembly); call once before contractingStatements. */
export const loadSqlParser = () => (loaded ??= loadModule());

/**
 * The statements of `sql` (a migration's up part) that the previous release may fail on, each
 * with why. Throws on SQL PostgreSQL would not parse. Tables created earlier in the same SQL are
 * new: nothing of the previous release touches them, so anything goes for them.
 */
export function contractingStatements(sql: string): ContractingStatement[] {
  const { stmts = [] } = parseSync(sql) as { stmts?: Array<{ stmt: Node; stmt_location?: number; stmt_len?: number }> };
  const created = new Set<string>();
  const found: ContractingStatement[] = [];
  // The parser's locations count UTF-8 bytes (comments here hold dashes and quotes beyond ASCII).
  const bytes = Buffer.from(sql, 'utf8');
  for (const { stmt, stmt_location = 0, stmt_len } of stmts) {
    const raw = bytes.subarray(stmt_location, stmt_len ? stmt_location + stmt_len : undefined).toString('utf8');
    const text = raw.replace(/^(\s*--[^\n]*\n|\s+)+/, '').trim();
    const reason = statementReason(stmt, created);
    if (reason) found.push({ sql: text, reason });
    if (stmt.CreateStmt) created.add(relName(stmt.CreateStmt.relation));
    if (stmt.CreateTableAsStmt) created.add(relName(stmt.CreateTableAsStmt.into?.rel));
  }
  return found;
}

export interface MigrationProblem {
  file: string;
  statements: ContractingStatement[];
}

/**
 * The migrations in `dir` that contract the schema without a `-- contract:` line saying why the
 * previous release does not need what they change (the ones before the first deploy excepted).
 */
export async function checkMigrations(dir: string): Promise<MigrationProblem[]> {
  await loadSqlParser();
  const problems: MigrationProblem[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    if (BEFORE_FIRST_DEPLOY.includes(file)) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    let statements: ContractingStatement[];
    try {
      statements = contractingStatements(upMigration(text));
    } catch (err) {
      throw new Error(`${file}: PostgreSQL's parser refuses it: ${(err as Error).message}`);
    }
    if (statements.length && !contractReason(text)) problems.push({ file, statements });
  }
  return problems;
}

/** One paragraph per migration, for the deploy's output. */
export const describeProblems = (problems: MigrationProblem[]) =>
  problems
    .map(
      (p) =>
        `${p.file} contracts the schema without a "-- contract: <why the previous release does not need it>" line:\n` +
        p.statements.map((s) => `  ${s.sql.split('\n')[0]!.slice(0, 120)}\n    -> ${s.reason}`).join('\n'),
    )
    .join('\n');
