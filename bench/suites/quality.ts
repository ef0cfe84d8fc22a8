// `npm run bench quality`: the matte quality bench with its default sets (the same as
// `npm run bench:quality`; flags such as --1080p only through that script).
import { runQualityBench } from '../quality/harness.js';

export default async function (): Promise<void> {
  const { markdown } = await runQualityBench({ command: 'npm run bench quality' });
  console.log(`\n${markdown}`);
}
