// The CLI's commands. To add one, write a Command and add a line here.
import type { Command } from '../command.js';
import { engineCommand } from './engine.js';
import { matteCommand } from './matte.js';
import { obsCommand } from './obs.js';
import { panelKeyCommand } from './panel-key.js';
import { workerCommand } from './worker.js';

export const commands: Record<string, Command> = {
  engine: engineCommand,
  matte: matteCommand,
  obs: obsCommand,
  'panel-key': panelKeyCommand,
  worker: workerCommand,
};
