// Secrets for the engine's pages travel in the URL fragment (`#key=...&password=...`): browsers
// never send the fragment to a server, it stays out of Referer headers and server logs, and a
// page on another origin cannot read it. The engine serves these pages without any secret.
export function fragmentParam(name: string): string | undefined {
  const value = new URLSearchParams(location.hash.replace(/^#/, '')).get(name);
  return value === null || value === '' ? undefined : value;
}
