// One cold start: a fresh Node process loads one handler bundle (module initialisation: parse,
// evaluate, config validation) and prints how long the import took, in ms.
const started = performance.now();
await import(process.argv[2]);
process.stdout.write(`${(performance.now() - started).toFixed(2)}\n`);
