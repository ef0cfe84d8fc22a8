// Runs a benchmark step with one environment variable set (the engine reads its overrides, such
// as CLEANPLATE_THREADS and CLEANPLATE_PARALLEL, when it opens a session), then puts it back.
export async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}
