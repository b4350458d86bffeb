// Calendar dates as `YYYY-MM-DD` strings, in integer arithmetic. Accepted dates are those of
// Python's `date` (years 0001-9999, proleptic Gregorian), as the old backend's were; Date's
// toISOString() writes the day after 9999-12-31 as "+010000-01-01", which PostgreSQL refuses.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LENGTH = 'YYYY-MM-DD'.length;

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function parts(value: string): [number, number, number] | undefined {
  // Length first: no regex ever runs over more than ten characters of client input.
  if (value.length !== LENGTH) return undefined;
  const m = DATE.exec(value);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** A real date between 0001-01-01 and 9999-12-31 written `YYYY-MM-DD`. */
export function isCalendarDate(value: string): boolean {
  const p = parts(value);
  if (!p) return false;
  const [y, m, d] = p;
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** The last day of its month (`date` is a calendar date). */
export function isMonthEnd(date: string): boolean {
  const [y, m, d] = parts(date)!;
  return d === daysInMonth(y, m);
}

/** The first day of its month. */
export const monthStart = (date: string): string => `${date.slice(0, 7)}-01`;

/**
 * The first day of the next month. After 9999-12 that is "10000-01-01": not a date a client may
 * send, but one PostgreSQL reads, used only as an exclusive upper bound.
 */
export function nextMonthStart(date: string): string {
  const [y, m] = parts(date)!;
  const [year, month] = m === 12 ? [y + 1, 1] : [y, m + 1];
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-01`;
}
