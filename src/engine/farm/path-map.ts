// Shared storage seen from several machines: the engine names every file by its own path, and a
// worker that mounts the same share elsewhere (a Windows drive letter vs a Linux mount point)
// translates with rules "FROM=TO" (CLEANPLATE_PATH_MAP, rules separated by ";"). The longest
// matching FROM wins; a FROM that looks like a Windows path matches case-insensitively with
// either slash; the rest of the path is joined with TO's separator style.

export interface PathRule {
  /** The engine's prefix, e.g. "S:\\Footage" or "/Volumes/Share". */
  readonly from: string;
  /** The same folder on this machine, e.g. "/mnt/share/Footage". */
  readonly to: string;
}

export class PathMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathMapError';
  }
}

function isWindowsStyle(p: string): boolean {
  return /^[a-zA-Z]:([\\/]|$)/.test(p) || p.startsWith('\\\\') || (p.includes('\\') && !p.includes('/'));
}

function trimSeparators(p: string): string {
  const trimmed = p.replace(/[\\/]+$/, '');
  return trimmed === '' ? p.slice(0, 1) : trimmed;
}

/** "S:\\=/mnt/s;/Volumes/Share=/mnt/share" -> rules. Empty text: no rules. */
export function parsePathMap(text: string | undefined): PathRule[] {
  if (!text || text.trim() === '') return [];
  return text
    .split(';')
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((rule) => {
      const eq = rule.indexOf('=');
      if (eq <= 0 || eq === rule.length - 1) throw new PathMapError(`path map rule "${rule}" must be FROM=TO (e.g. "S:\\=/mnt/share")`);
      return { from: rule.slice(0, eq).trim(), to: rule.slice(eq + 1).trim() };
    });
}

/** The rest of `p` after `prefix` (starting at a separator or empty), or undefined if it does not start there. */
function restAfter(p: string, prefix: string): string | undefined {
  const windows = isWindowsStyle(prefix);
  const norm = (s: string): string => (windows ? s.replace(/\\/g, '/').toLowerCase() : s);
  const base = trimSeparators(prefix);
  const np = norm(p);
  const nb = norm(base);
  if (!np.startsWith(nb)) return undefined;
  const rest = p.slice(base.length);
  // A prefix ending in a separator ("S:\\", "/") matches anything under it; otherwise the next
  // character must be one, so "/mnt/share" does not match "/mnt/shared".
  if (rest === '' || /^[\\/]/.test(rest) || /[\\/]$/.test(base)) return rest;
  return undefined;
}

function joinStyled(to: string, rest: string): string {
  const parts = rest.split(/[\\/]+/).filter((s) => s !== '');
  if (parts.length === 0) return to;
  const sep = isWindowsStyle(to) ? '\\' : '/';
  return `${to.replace(/[\\/]+$/, '')}${sep}${parts.join(sep)}`;
}

/** Maps an engine path to this machine's path (unchanged when no rule matches). */
export function mapPath(p: string, rules: readonly PathRule[]): string {
  let best: { rule: PathRule; rest: string } | undefined;
  for (const rule of rules) {
    const rest = restAfter(p, rule.from);
    if (rest !== undefined && (!best || trimSeparators(rule.from).length > trimSeparators(best.rule.from).length)) best = { rule, rest };
  }
  return best ? joinStyled(best.rule.to, best.rest) : p;
}

/** The rules the other way round: this machine's paths back to the engine's. */
export function reverseRules(rules: readonly PathRule[]): PathRule[] {
  return rules.map((r) => ({ from: r.to, to: r.from }));
}
