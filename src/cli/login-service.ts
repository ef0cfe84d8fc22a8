// Start-at-login files for the engine, one per OS, written and removed by `cleanplate engine login`:
// a systemd user unit (Linux), a LaunchAgent (macOS), a Startup-folder script (Windows). Each
// carries a marker line: only a file with it is replaced or removed, never one the user made.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const LOGIN_MARKER = 'Written by "cleanplate engine login install"; "cleanplate engine login remove" removes it.';

export interface LoginService {
  readonly file: string;
  readonly content: string;
  /** What to run after writing it (printed, not run: the user's session manager is theirs). */
  readonly enable: string;
  readonly disable: string;
}

const quote = (s: string): string => `"${s.replaceAll('"', '\\"')}"`;
const xml = (s: string): string => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

/** The file for `platform`, starting `command` (the node binary, the cleanplate bin, "engine"). */
export function loginService(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, command: readonly string[]): LoginService {
  const home = env.HOME ?? env.USERPROFILE ?? '';
  if (platform === 'darwin') {
    const file = path.join(home, 'Library', 'LaunchAgents', 'com.cleanplate.engine.plist');
    const log = path.join(home, 'Library', 'Logs', 'cleanplate-engine.log');
    return {
      file,
      content: `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- ${LOGIN_MARKER} -->
<plist version="1.0">
<dict>
  <key>Label</key><string>com.cleanplate.engine</string>
  <key>ProgramArguments</key>
  <array>
${command.map((a) => `    <string>${xml(a)}</string>`).join('\n')}
  </array>
  <key>RunAtLoad</key><true/>
  <key>StandardErrorPath</key><string>${xml(log)}</string>
</dict>
</plist>
`,
      enable: `launchctl load -w ${quote(file)}`,
      disable: `launchctl unload -w ${quote(file)}`,
    };
  }
  if (platform === 'win32') {
    const appData = env.APPDATA || path.join(home, 'AppData', 'Roaming');
    const file = path.join(appData, 'Microsoft', 'Windows', 'Start Menu', 'Programs', 'Startup', 'cleanplate-engine.cmd');
    return {
      file,
      content: `@rem ${LOGIN_MARKER}\r\n@start "CleanPlate engine" /min ${command.map(quote).join(' ')}\r\n`,
      enable: 'nothing to run: Windows starts it at your next sign-in (or double-click the file now)',
      disable: 'nothing to run: it will not start at your next sign-in',
    };
  }
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const file = path.join(configHome, 'systemd', 'user', 'cleanplate-engine.service');
  return {
    file,
    content: `# ${LOGIN_MARKER}
[Unit]
Description=CleanPlate engine (local background matting, http://127.0.0.1:7470)

[Service]
ExecStart=${command.map(quote).join(' ')}
Restart=on-failure

[Install]
WantedBy=default.target
`,
    enable: 'systemctl --user daemon-reload && systemctl --user enable --now cleanplate-engine.service',
    disable: 'systemctl --user disable --now cleanplate-engine.service',
  };
}

/** 'ours' (has the marker), 'foreign' (someone else's file), or 'absent'. */
export async function loginFileState(file: string): Promise<'ours' | 'foreign' | 'absent'> {
  try {
    return (await readFile(file, 'utf8')).includes(LOGIN_MARKER) ? 'ours' : 'foreign';
  } catch {
    return 'absent';
  }
}
