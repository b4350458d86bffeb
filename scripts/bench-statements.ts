import { writeFileSync } from 'node:fs';
import { renderPdf } from '../lib/statements/pdf.js';
import { buildStatement, type StatementEntryRow, type StatementRows } from '../lib/statements/statement.js';
import { renderXlsx } from '../lib/statements/xlsx.js';

// How long and how much memory rendering a statement of N entries takes (the renderers only:
// the read is one indexed query). Each size runs in a fresh process, as a Lambda container
// would render one statement: `npx tsx scripts/bench-statements.ts 10000` (`--long`: every
// description 1,000 characters, the most an entry holds, half of them outside Latin-1).
// `--sample DIR` writes the sample statements of docs/ instead (a small book, two pages).
// The numbers chose STATEMENT_MAX_ROWS's default (lib/config.ts); see docs/api.md, "Statements".

const EXPENSES: Array<[string, string]> = [
  ['Groceries', 'Weekly shop at the market'],
  ['Rent', 'Flat rent'],
  ['Fuel', 'Petrol'],
  ['Utilities', 'Electricity bill — Q1'],
  ['Eating out', 'Lunch with the team (Café Müller)'],
  ['transfer', 'Deposit to bank'],
  ['', ''],
];
const MODES = ['cash', 'bank', 'card', 'upi'];

export function syntheticRows(count: number, currency = 'INR', long = false): StatementRows {
  const entries: StatementEntryRow[] = [];
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < count; i++) {
    const income = i % 7 === 0;
    entries.push({
      date: new Date(start + Math.floor((i * 365) / Math.max(count, 1)) * 86_400_000).toISOString().slice(0, 10),
      type: income ? 'income' : 'expense',
      amount: income ? `${25_000 + (i % 13) * 1_000}.00` : `${(i * 7919) % 5_000}.${String((i * 31) % 100).padStart(2, '0')}`.replace(/^0\./, '1.'),
      category: income ? 'Salary' : EXPENSES[i % EXPENSES.length]![0],
      description: long ? `${'Résumé ₹ उदाहरण '.repeat(63)}${i}`.slice(0, 1000) : income ? 'Salary' : EXPENSES[i % EXPENSES.length]![1],
      payment_mode: MODES[i % MODES.length]!,
    });
  }
  return { book: { name: 'Household — Sharma family', currency }, period: { from: '2025-01-01', to: '2025-12-31' }, opening: '12500.00', entries };
}

function measure(count: number, long: boolean) {
  const rows = syntheticRows(count, 'INR', long);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const result: Record<string, string> = { entries: `${count}${long ? ' (1000-character descriptions)' : ''}` };
  for (const [kind, render] of [['pdf', renderPdf], ['xlsx', renderXlsx]] as const) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const bytes = render(buildStatement(rows));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    peak = Math.max(peak, process.memoryUsage().rss);
    // CPU time as well as wall time: on a shared machine the wall time says more about the neighbours.
    result[kind] = `${ms.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ${(bytes.length / 1024 / 1024).toFixed(2)} MB`;
  }
  clearInterval(timer);
  result.rss = `${(before / 1024 / 1024).toFixed(0)} MB -> peak ${(peak / 1024 / 1024).toFixed(0)} MB`;
  console.log(JSON.stringify(result));
}

const args = process.argv.slice(2);
if (args[0] === '--sample') {
  const dir = args[1] ?? 'docs';
  const rows = syntheticRows(70);
  writeFileSync(`${dir}/statement-sample.pdf`, renderPdf(buildStatement(rows)));
  writeFileSync(`${dir}/statement-sample.xlsx`, renderXlsx(buildStatement(rows)));
} else {
  const long = args.includes('--long');
  for (const arg of args.filter((a) => a !== '--long')) measure(Number(arg), long);
}
