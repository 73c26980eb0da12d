// The dashboard's static assets (stylesheet and script), kept as files beside this
// module (the build copies them into dist/) and read once.
import { readFileSync } from 'node:fs';

const read = (name: string): string => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

export const STYLE_CSS = read('style.css');
export const LIVE_JS = read('live.js');
