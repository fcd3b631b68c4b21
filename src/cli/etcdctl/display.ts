// The display chosen by -w/--write-out and --hex (etcdctl's package-level `display`), set when a command
// builds its client (initDisplayFromCmd).

import type { RunContext } from "./command.js";
import { ExitBadFeature, exitWithError } from "./exit.js";
import type { Printer } from "./printer.js";
import { FieldsPrinter } from "./printer_fields.js";
import { JsonPrinter } from "./printer_json.js";
import { SimplePrinter } from "./printer_simple.js";
import { ProtobufPrinter, TablePrinter } from "./printer_table.js";

let current: Printer = new SimplePrinter(false);

export function newPrinter(format: string, isHex: boolean): Printer | undefined {
  switch (format) {
    case "simple":
      return new SimplePrinter(isHex);
    case "fields":
      return new FieldsPrinter();
    case "json":
      return new JsonPrinter(isHex);
    case "protobuf":
      return new ProtobufPrinter();
    case "table":
      return new TablePrinter();
  }
  return undefined;
}

/** initDisplayFromCmd: an unknown format exits 4. */
export function initDisplay(ctx: RunContext): Printer {
  const p = newPrinter(ctx.flags.str("write-out"), ctx.flags.bool("hex"));
  if (p === undefined) exitWithError(ExitBadFeature, "unsupported output format");
  current = p;
  return p;
}

export function display(): Printer {
  return current;
}
