// Media paths as Premiere reports them: compared across slash styles, and case-insensitively for
// Windows drive paths. ES3-safe (used by the ExtendScript host and the UXP plugin alike).

export function samePath(a: string, b: string): boolean {
  const x = String(a).replace(/\\/g, '/');
  const y = String(b).replace(/\\/g, '/');
  if (/^[a-zA-Z]:\//.test(x) || /^[a-zA-Z]:\//.test(y)) return x.toLowerCase() === y.toLowerCase();
  return x === y;
}
