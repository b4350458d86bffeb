// pg's SCRAM helpers, which lib/db.ts wraps to derive a role's salted password once per container.
declare module 'pg/lib/crypto/utils.js' {
  const utils: { deriveKey(password: string, salt: Uint8Array, iterations: number): Promise<ArrayBuffer> };
  export default utils;
}
