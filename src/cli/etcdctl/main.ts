// etcdctl's main: ETCDCTL_API, finding the command, parsing its flags, help, running it, and turning a
// failure into etcd's `Error: <message>` line and exit code (cobra's and cobrautl's behaviour).

import { Command, findCommand, type RunContext, usageText } from "./command.js";
import { completeSpecs } from "./commands/completion.js";
import { CtlExit, ExitError } from "./exit.js";
import { API_VERSION, VERSION } from "./meta.js";
import { errln, out } from "./out.js";
import { rootSpec } from "./root.js";

/** The usage text; a command that is not the one being run has no -h/--help flag (cobra adds it then). */
function printUsage(c: Command, withHelpFlag = true): void {
  out(usageText(c, VERSION, API_VERSION, withHelpFlag));
}

/** cobra's help command: usage of the named command, or of the root for an unknown topic. */
function helpSpec(root: () => Command) {
  return {
    use: "help [command]",
    short: "Help about any command",
    long: `Help provides help for any command in the application.\nSimply type etcdctl help [path to command] for full details.`,
    run: (ctx: RunContext) => {
      const f = findCommand(root(), ctx.args);
      if (f.error !== undefined) {
        process.stderr.write(`Unknown help topic [${ctx.args.map((a) => `\`${a}\``).join(" ")}]\n`);
        printUsage(root(), false);
        return;
      }
      printUsage(f.cmd);
    },
  };
}

/** Runs etcdctl with `argv` (without the program name); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const api = process.env.ETCDCTL_API;
  delete process.env.ETCDCTL_API;
  // Of the v2 API only `backup` remains (the guide's backup scripts run it with ETCDCTL_API=2); its flags
  // are the same as ours.
  const v2Backup = api === "2" && argv.find((a) => !a.startsWith("-")) === "backup";
  if (api !== undefined && api !== "" && api !== "3" && !v2Backup) {
    if (api === "2") errln("etcdctl: of the v2 API (ETCDCTL_API=2) etcd-ts supports only `backup`");
    else errln(`unsupported API version: ${api}`);
    return ExitError;
  }

  const root = new Command(rootSpec());
  root.addChild(helpSpec(() => root));
  for (const s of completeSpecs(() => root)) root.addChild(s);

  const found = findCommand(root, argv);
  const cmd = found.cmd;
  if (found.error !== undefined) {
    errln(`Error: ${found.error}`);
    errln(`Run '${cmd.path()} --help' for usage.`);
    errln(`Error: ${found.error}`);
    return ExitError;
  }
  const flags = cmd.flagSet();
  if (cmd.spec.disableFlagParsing) {
    await cmd.spec.run!({ cmd, args: found.args, argsLenAtDash: -1, flags, argv });
    return 0;
  }
  const perr = flags.parse(found.args);
  if (perr !== undefined) {
    errln(`Error: ${perr}`);
    printUsage(cmd);
    errln("");
    errln(`Error: ${perr}`);
    return ExitError;
  }
  if (flags.bool("help") || !cmd.runnable()) {
    printUsage(cmd);
    return 0;
  }
  const ctx: RunContext = { cmd, args: flags.args, argsLenAtDash: flags.argsLenAtDash, flags, argv };
  try {
    await cmd.spec.run!(ctx);
    return 0;
  } catch (e) {
    if (e instanceof CtlExit) {
      if (e.text !== undefined) errln(`Error: ${e.text}`);
      return e.code;
    }
    errln(`Error: ${e instanceof Error ? e.message : String(e)}`);
    return ExitError;
  }
}
