// The site as one POSIX tar archive (ustar), for the role to ship to the frontends
// in one copy and unpack into a fresh directory. Deterministic: entries in the
// given order, owner 0:0, mode 0644, modification time 0. The site is pure ASCII
// (html.ts escapes everything else), so the archive is an ASCII string too, and is
// written like any other inventory file.

const BLOCK = 512;

function field(value: string, length: number): string {
  if (value.length > length) throw new Error(`tar: ${JSON.stringify(value)} does not fit in ${length} bytes`);
  return value + '\0'.repeat(length - value.length);
}

const octal = (n: number, length: number): string => n.toString(8).padStart(length - 1, '0') + '\0';

function header(name: string, size: number): string {
  let prefix = '';
  let base = name;
  if (name.length > 100) {
    const i = name.lastIndexOf('/', 155);
    if (i < 0 || name.length - i - 1 > 100) throw new Error(`tar: path too long: ${name}`);
    prefix = name.slice(0, i);
    base = name.slice(i + 1);
  }
  const parts = [
    field(base, 100),
    octal(0o644, 8),
    octal(0, 8),
    octal(0, 8),
    octal(size, 12),
    octal(0, 12),
    '        ', // checksum, counted as spaces
    '0',
    field('', 100),
    'ustar\0',
    '00',
    field('root', 32),
    field('root', 32),
    octal(0, 8),
    octal(0, 8),
    field(prefix, 155),
    field('', 12),
  ];
  let h = parts.join('');
  let sum = 0;
  for (let i = 0; i < h.length; i++) sum += h.charCodeAt(i);
  h = h.slice(0, 148) + sum.toString(8).padStart(6, '0') + '\0 ' + h.slice(156);
  return h;
}

/** A ustar archive of the files (relative path -> ASCII text), as a string of bytes 0-127. */
export function tarArchive(files: Map<string, string>): string {
  const out: string[] = [];
  for (const [name, text] of files) {
    if (/[^\x00-\x7f]/.test(name + text)) throw new Error(`tar: ${name} is not ASCII`);
    out.push(header(name, text.length), text, '\0'.repeat((BLOCK - (text.length % BLOCK)) % BLOCK));
  }
  out.push('\0'.repeat(BLOCK * 2));
  return out.join('');
}
