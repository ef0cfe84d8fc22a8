// npm run models:add <file.onnx> -- registers a model file downloaded by hand (see src/cli/models-commands.ts).
import { runAddCommand } from '../src/cli/models-commands.js';

process.exitCode = await runAddCommand(process.argv.slice(2));
