// Where float's bundled files (services.default.yml, passwords.yml.default,
// playbooks/, roles/, bin/) live: the package root. This module sits two levels
// below it both as source (src/core/) and as built JavaScript (dist/core/).
// fileURLToPath decodes the URL, so a root whose path has spaces or other
// escaped characters is found as it is on disk.
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
