// Rows of text as aligned columns, for the commands that print tables.

/** One line per row, each cell padded to its column's widest (two spaces apart, no trailing blanks). */
export function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}
