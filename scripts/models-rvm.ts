// npm run models:rvm -- converts Robust Video Matting to models/rvm.onnx (see src/cli/models-rvm.ts).
import { runRvmCommand } from '../src/cli/models-rvm.js';

process.exitCode = await runRvmCommand(process.argv.slice(2));
