// `?raw` imports: a file's text (Vite/vitest natively; esbuild via scripts/esbuild-plugins.cjs).
declare module '*?raw' {
  const text: string;
  export default text;
}
