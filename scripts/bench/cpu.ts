import { readFileSync, readdirSync } from 'node:fs';
import { processCpuMs } from '../lib/pgbouncer.js';

// PostgreSQL's CPU time from /proc: the postmaster's own and reaped children's time
// (utime + stime + cutime + cstime) plus every live child's (backends, autovacuum, walwriter...).
// Read before and after a scenario; the difference is what the scenario cost the server.

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

/** Total CPU ms of the PostgreSQL cluster whose postmaster is `pid` (0 where /proc is missing). */
export function postgresCpuMs(pid: number): number {
  let total = processCpuMs(pid, true);
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return total;
  }
  for (const entry of entries) {
    if (parentOf(entry) === pid) total += processCpuMs(Number(entry), true);
  }
  return total;
}
