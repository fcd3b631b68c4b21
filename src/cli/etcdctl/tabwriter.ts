// Go's text/tabwriter as etcd's usage text uses it (minwidth 0, tabwidth 8, padding 1, padchar '\t', no
// flags): tab-terminated cells of consecutive lines form a column block whose width is its widest cell
// plus the padding, rounded up to a tab stop; cells are padded with tabs. Text after the last tab of a
// line is not part of any column.

const TABWIDTH = 8;
const PADDING = 1;

type Line = string[]; // cells; the last one is the trailing text

function runeCount(s: string): number {
  return [...s].length;
}

/** Formats `text` as tabwriter.Writer (then Flush) would. */
export function tabwrite(text: string): string {
  const lines: Line[] = text.split("\n").map((l) => l.split("\t"));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i]!;
      let s = "";
      line.forEach((cell, j) => {
        s += cell;
        if (j < widths.length && j < line.length - 1) {
          const cellw = Math.ceil(widths[j]! / TABWIDTH) * TABWIDTH;
          const n = cellw - runeCount(cell);
          s += "\t".repeat(Math.ceil(n / TABWIDTH));
        }
      });
      out.push(s);
    }
  };

  const format = (line0in: number, line1: number) => {
    let line0 = line0in;
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let width = 0;
      for (; t < line1; t++) {
        const line = lines[t]!;
        if (column >= line.length - 1) break;
        const w = runeCount(line[column]!) + PADDING;
        if (w > width) width = w;
      }
      widths.push(width);
      format(line0, t);
      widths.pop();
      line0 = t;
      t--; // the for loop's t++ revisits the line that ended the block
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join("\n");
}
