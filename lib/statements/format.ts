import { fromCents } from './statement.js';

// Amounts as the book's currency writes them: its number of decimals (2 for INR and USD, 0 for
// JPY, 3 for KWD; a JPY amount with cents keeps them rather than round money away), digit
// grouping (Indian lakh/crore grouping for INR), a leading minus. Intl formats the decimal
// string itself, so sums past 2^53 cents lose nothing. The code, not the symbol, names the
// currency: ₹ and most other symbols are not in the PDF standard fonts' character set.

/** Decimal places of an ISO 4217 currency, from the runtime's ICU data. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

const locale = (currency: string) => (currency === 'INR' ? 'en-IN' : 'en-US');

/** cents -> "1,23,456.50" (INR), "-1,234.50" (USD), "1,235" (JPY, whole). */
export function amountFormatter(currency: string): (cents: bigint) => string {
  const digits = currencyDigits(currency);
  const whole = new Intl.NumberFormat(locale(currency), { minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, 2) });
  const withCents = new Intl.NumberFormat(locale(currency), { minimumFractionDigits: 2, maximumFractionDigits: Math.max(digits, 2) });
  return (cents) => {
    const format = digits === 0 && cents % 100n !== 0n ? withCents : whole;
    // format() takes a decimal string exactly (Intl.NumberFormat v3); its type still says number.
    return format.format(fromCents(cents) as unknown as number).replace(/\u2212/g, '-');
  };
}
