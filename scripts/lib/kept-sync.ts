import { createHash } from 'node:crypto';
import pg from 'pg';
import { KEPT_PREFIX, keptName, type KeptStatements } from '../../lib/kept.js';
import { KEPT_CATALOG } from '../../lib/kept-catalog.js';

// `npm run migrate`'s last step (lib/kept.ts): one PL/pgSQL function per kept statement shape,
// whose body is the statement's text. Its parameter and result types are the server's own, read
// off the statement (Parse + Describe), so RETURN QUERY matches the statement exactly and the
// client parses the same types as for the statement sent as text. A function that already
// exists with the same definition (its comment holds the definition's hash) is left alone: its
// backends keep their plans. Any other kept function is dropped: this code no longer sends its
// text, or the schema under it changed its types.

interface Described {
  params: number[];
  fields: Array<{ name: string; dataTypeID: number }>;
}

/** Parse + Describe of the unnamed statement: the types the server infers, nothing executed. */
function describe(client: pg.Client, text: string): Promise<Described> {
  return new Promise((resolve, reject) => {
    const found: Described = { params: [], fields: [] };
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    const onParams = (msg: { dataTypeIDs: number[] }) => (found.params = msg.dataTypeIDs);
    // A submittable (as pg-cursor is): the client routes the replies of its messages to it.
    void client.query({
      submit(con: { parse(m: object): void; describe(m: object): void; sync(): void }) {
        connection.once('parameterDescription', onParams);
        con.parse({ text, types: [] });
        con.describe({ type: 'S' });
        con.sync();
      },
      handleRowDescription: (msg: { fields: Described['fields'] }) => (found.fields = msg.fields),
      // On an error the client drops its active query: no ReadyForQuery reaches this object
      // (a statement with a mistake hung migrate, and the whole test run with it).
      handleError: (err: Error) => {
        connection.off('parameterDescription', onParams);
        reject(err);
      },
      handleReadyForQuery: () => {
        connection.off('parameterDescription', onParams);
        resolve(found);
      },
      handleDataRow: () => undefined,
      handleCommandComplete: () => undefined,
      handleEmptyQuery: () => undefined,
      handlePortalSuspended: () => undefined,
    } as never);
  });
}

/** The CREATE FUNCTION of one shape, and the identity (argument types) DROP needs. */
async function definition(client: pg.Client, text: string): Promise<{ name: string; args: string; create: string }> {
  const { params, fields } = await describe(client, text);
  if (!fields.length) throw new Error(`a kept statement must return rows:\n${text}`);
  const { rows: [types] } = await client.query<{ params: string[]; fields: string[] }>(
    `SELECT ARRAY(SELECT format_type(p, NULL) FROM unnest($1::oid[]) WITH ORDINALITY AS u(p, n) ORDER BY n) AS params,
            ARRAY(SELECT format_type(f, NULL) FROM unnest($2::oid[]) WITH ORDINALITY AS u(f, n) ORDER BY n) AS fields`,
    [params, fields.map((f) => f.dataTypeID)],
  );
  const name = keptName(text);
  const args = types!.params.join(', ');
  const columns = fields.map((f, i) => `${client.escapeIdentifier(f.name)} ${types!.fields[i]}`).join(', ');
  // use_column: a name that is both a column of the query and an output column of the function
  // means the query's column, as in the statement sent on its own. The body is the text as it is,
  // between dollar quotes no generated statement contains.
  // force_generic_plan: the plan cache otherwise compares the generic plan's estimated cost with
  // the custom plans' and, for a user with 1,420 entries (the generic plan's LIMIT is a parameter),
  // planned the list afresh on every call: 1.6 ms a call instead of 0.55 (capacity.md). The
  // setting is the function's own, restored when it returns: nothing reaches the session.
  if (text.includes('$kept$')) throw new Error('a kept statement cannot contain $kept$');
  const create = `CREATE FUNCTION ${name}(${args}) RETURNS TABLE (${columns}) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $kept$
#variable_conflict use_column
BEGIN
RETURN QUERY ${text};
END
$kept$`;
  return { name, args, create };
}

/**
 * On `client` (an owner's connection), creates the kept functions of `sets` (all of this code's,
 * by default) that are missing or differ, drops the kept functions of other texts. Returns what
 * it created and dropped.
 */
export async function syncKept(client: pg.Client, sets: readonly KeptStatements[] = KEPT_CATALOG): Promise<{ created: string[]; dropped: string[] }> {
  try {
    await client.query('BEGIN');
    // Two migrates at once (two deploys, parallel test setups) would race on the same names.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('cashbook_kept_sync'))`);
    const { rows: existing } = await client.query<{ name: string; args: string; fingerprint: string | null }>(
      `SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, obj_description(p.oid, 'pg_proc') AS fingerprint
       FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND starts_with(p.proname, $1)`,
      [KEPT_PREFIX],
    );
    const wanted = new Map<string, { args: string; create: string }>();
    for (const set of sets) for (const text of set.texts()) {
      const found = await definition(client, text);
      wanted.set(found.name, found);
    }
    const created: string[] = [];
    const dropped: string[] = [];
    for (const old of existing) {
      const want = wanted.get(old.name);
      if (want && old.fingerprint === fingerprint(want.create)) {
        wanted.delete(old.name);
        continue;
      }
      await client.query(`DROP FUNCTION ${old.name}(${old.args})`);
      if (!want) dropped.push(old.name);
    }
    for (const [name, want] of wanted) {
      await client.query(want.create);
      await client.query(`COMMENT ON FUNCTION ${name}(${want.args}) IS '${fingerprint(want.create)}'`);
      created.push(name);
    }
    await client.query('COMMIT');
    return { created, dropped };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A kept function's comment: the hash of its whole definition, types included. */
const fingerprint = (create: string) => createHash('sha256').update(create).digest('hex');
