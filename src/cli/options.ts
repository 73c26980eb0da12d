// Options shared by every command.
import { Option } from 'commander';

export const configOption = () =>
  new Option('-c, --config <path>', 'path of the float configuration (config.yml)').default('config.yml');

/** --no-wait: fail at once (exit 75) instead of waiting when another float process holds the configuration. */
export const noWaitOption = () =>
  new Option('--no-wait', 'fail at once (exit 75, F3012) when another float process holds this configuration, instead of waiting for it');
