// npm run models:fetch [id] -- downloads a model listed in models/manifest.json (see src/engine/models/commands.ts).
import { runFetchCommand } from '../src/engine/models/commands.js';

process.exitCode = await runFetchCommand(process.argv.slice(2));
