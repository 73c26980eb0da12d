// Options shared by every command.
import { Option } from 'commander';

export const configOption = () =>
  new Option('-c, --config <path>', 'path of the float configuration (config.yml)').default('config.yml');
