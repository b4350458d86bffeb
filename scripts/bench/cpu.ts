import { readFileSync, readdirSync } from 'node:fs';
import { processCpuMs } from '../lib/pgbouncer.js';

// CPU time from /proc, read before and after a scenario; the difference is what the scenario
// cost. A process's own and reaped children's time (utime + stime + cutime + cstime) plus every
// live descendant's: PostgreSQL's postmaster and its backends, autovacuum, walwriter...; the
// serverless-offline process, whose worker threads ("containers") count in its own time, and
// the esbuild service it runs.

/** The postmaster's pid, from the data directory's postmaster.pid. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // exited meanwhile
  }
}

/** Every live process's children, by parent pid (undefined where /proc is missing). */
function childrenByParent(): Map<number, number[]> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    const parent = parentOf(entry);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  return children;
}

/** Total CPU ms of the process `pid` and all its descendants (0 where /proc is missing). */
export function processTreeCpuMs(pid: number): number {
  const children = childrenByParent();
  if (!children) return processCpuMs(pid, true);
  let total = 0;
  const visit = (p: number) => {
    total += processCpuMs(p, true);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return total;
}

/** Total CPU ms of the PostgreSQL cluster whose postmaster is `pid`. */
export const postgresCpuMs = processTreeCpuMs;

/** What a PostgreSQL process is, from its title (`postgres: checkpointer`, `postgres: user db host state`). */
function postgresKind(pid: number, postmaster: number): string {
  if (pid === postmaster) return 'postmaster + exited backends';
  let title = '';
  try {
    title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return 'backends';
  }
  const kind = /postgres: (?:[\w.-]+\/\w+: )?(checkpointer|background writer|walwriter|autovacuum launcher|autovacuum worker|io worker|logical replication launcher|walsummarizer)/.exec(title);
  return kind ? kind[1]! : 'backends';
}

/**
 * The cluster's CPU ms by kind of process: the backends alive now, each background process,
 * and the postmaster with what it reaped (a backend that exits moves its CPU there). Read twice,
 * the difference says who spent a stretch's CPU (a checkpoint writing out a seeding, autovacuum).
 */
export function postgresCpuByKind(postmaster: number): Map<string, number> {
  const byKind = new Map<string, number>();
  const children = childrenByParent() ?? new Map<number, number[]>();
  const visit = (p: number) => {
    const kind = postgresKind(p, postmaster);
    byKind.set(kind, (byKind.get(kind) ?? 0) + processCpuMs(p, p === postmaster));
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(postmaster);
  return byKind;
}
