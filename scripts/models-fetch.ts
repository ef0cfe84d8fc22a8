// npm run models:fetch [id] -- downloads a model listed in models/manifest.json (see src/cli/models-commands.ts).
import { runFetchCommand } from '../src/cli/models-commands.js';

process.exitCode = await runFetchCommand(process.argv.slice(2));
