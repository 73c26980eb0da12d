// The list of CLI commands. Each command lives in its own file and exports a
// `register(program, setExitCode)` function; add one import per command here.
import type { Command } from 'commander';
import { register as check } from './check.js';
import { register as compile } from './compile.js';
import { register as schedule } from './schedule.js';
import { register as run } from './run.js';
import { register as createEnv } from './create-env.js';
import { register as env } from './env.js';
import { register as signHostKey } from './sign-host-key.js';
import { register as initCredentials } from './init-credentials.js';
import { register as dns } from './dns.js';

export type SetExitCode = (code: number) => void;
export type RegisterCommand = (program: Command, setExitCode: SetExitCode) => void;

export const COMMANDS: RegisterCommand[] = [check, schedule, compile, run, initCredentials, createEnv, env, signHostKey, dns];
