// ISO 4217 codes as the runtime's ICU data knows them (Node ships full ICU): no hand-kept list.
let codes: Set<string> | undefined;

export function isCurrencyCode(value: string): boolean {
  codes ??= new Set(Intl.supportedValuesOf('currency'));
  return /^[A-Z]{3}$/.test(value) && codes.has(value);
}
