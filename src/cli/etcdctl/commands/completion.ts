// completion bash|zsh|fish|powershell: shell scripts that complete etcdctl's commands and flags by
// asking etcdctl itself (the hidden `__complete` command, cobra's protocol: one candidate per line,
// optionally `<candidate>\t<description>`, then `:<directive>`; directive 4 means "no file completion").

import { type Command, type CommandSpec, findCommand, type RunContext } from "../command.js";

const NO_FILE_COMP = 4;

/** Candidates for the last word of `args`, given the words before it. */
export function complete(root: Command, args: string[], descriptions: boolean): string {
  const words = args.slice(0, -1);
  const partial = args[args.length - 1] ?? "";
  const { cmd } = findCommand(root, words);
  const lines: string[] = [];
  let directive = 0;
  const add = (name: string, desc: string) => lines.push(descriptions && desc ? `${name}\t${desc}` : name);
  if (partial.startsWith("-")) {
    // cobra: inherited flags, then the command's own (with -h/--help), each group by name; a flag
    // already given is not offered again (unless it takes several values).
    const given = cmd.flagSet();
    given.parse(words.filter((w) => w.startsWith("-")));
    const byName = (a: { name: string }, b: { name: string }) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    for (const f of [...[...cmd.inheritedFlags()].sort(byName), ...[...cmd.localFlags()].sort(byName)]) {
      if (f.hidden || (given.changed.has(f.name) && f.kind !== "stringSlice")) continue;
      if (`--${f.name}`.startsWith(partial)) add(`--${f.name}`, f.usage);
      if (f.short && `-${f.short}`.startsWith(partial)) add(`-${f.short}`, f.usage);
    }
    directive = NO_FILE_COMP;
  } else if (cmd.children.length > 0) {
    for (const c of cmd.children) if (!c.spec.hidden && c.name.startsWith(partial)) add(c.name, c.spec.short);
    directive = NO_FILE_COMP;
  } else if (cmd.name === "help" && cmd.parent === root) {
    // `help <command>`: the commands under the words given so far.
    const { cmd: under } = findCommand(root, words.slice(words.indexOf("help") + 1));
    for (const c of under.children)
      if (!c.spec.hidden && c.name.startsWith(partial)) add(c.name, c.spec.short);
    directive = NO_FILE_COMP;
  }
  return `${lines.map((l) => `${l}\n`).join("")}:${directive}\n`;
}

function script(shell: string): string {
  switch (shell) {
    case "bash":
      return `# bash completion for etcdctl                              -*- shell-script -*-

__etcdctl_complete() {
    local cur="\${COMP_WORDS[COMP_CWORD]}"
    local out directive
    out=$("\${COMP_WORDS[0]}" __completeNoDesc "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
    directive=\${out##*:}
    out=\${out%:*}
    COMPREPLY=( $(compgen -W "$out" -- "$cur") )
    if [[ \${#COMPREPLY[@]} -eq 0 && $(( directive & ${NO_FILE_COMP} )) -eq 0 ]]; then
        COMPREPLY=( $(compgen -f -- "$cur") )
    fi
}

complete -o default -F __etcdctl_complete etcdctl
`;
    case "zsh":
      return `#compdef etcdctl

_etcdctl() {
    local -a completions
    local out directive line
    out=$(\${words[1]} __complete \${words[2,CURRENT]} 2>/dev/null)
    directive=\${out##*:}
    for line in \${(f)out}; do
        [[ $line == :* ]] && continue
        completions+=("\${line/$'\\t'/:}")
    done
    if (( \${#completions} )); then
        _describe 'completions' completions
    elif (( (directive & ${NO_FILE_COMP}) == 0 )); then
        _files
    fi
}

compdef _etcdctl etcdctl
`;
    case "fish":
      return `# fish completion for etcdctl                              -*- shell-script -*-

function __etcdctl_complete
    set -l args (commandline -opc)
    set -e args[1]
    etcdctl __complete $args (commandline -ct) 2>/dev/null | string match -v -r '^:'
end

complete -c etcdctl -f -a '(__etcdctl_complete)'
`;
    default:
      return `# powershell completion for etcdctl                        -*- shell-script -*-

Register-ArgumentCompleter -CommandName 'etcdctl' -ScriptBlock {
    param($WordToComplete, $CommandAst, $CursorPosition)
    $Words = $CommandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() }
    if ($WordToComplete -eq '') { $Words += '' }
    $Out = & etcdctl __complete @Words 2>$null
    $Out | Where-Object { $_ -notlike ':*' } | ForEach-Object {
        $Name, $Desc = $_ -split "\`t", 2
        if (-not $Desc) { $Desc = $Name }
        [System.Management.Automation.CompletionResult]::new($Name, $Name, 'ParameterValue', $Desc)
    }
}
`;
  }
}

function shellSpec(shell: string): CommandSpec {
  return {
    use: shell,
    short: `Generate the autocompletion script for ${shell}`,
    flags: [{ name: "no-descriptions", kind: "bool", def: false, usage: "disable completion descriptions" }],
    run: () => {
      process.stdout.write(script(shell));
    },
  };
}

export function completionSpec(): CommandSpec {
  return {
    use: "completion",
    short: "Generate the autocompletion script for the specified shell",
    long: "Generate the autocompletion script for etcdctl for the specified shell.\nSee each sub-command's help for details on how to use the generated script.\n",
    subcommands: ["bash", "fish", "powershell", "zsh"].map(shellSpec),
  };
}

/** The hidden `__complete` / `__completeNoDesc` commands the scripts call. */
export function completeSpecs(root: () => Command): CommandSpec[] {
  const run = (descriptions: boolean) => (ctx: RunContext) => {
    const out = complete(root(), ctx.args, descriptions);
    process.stdout.write(out);
    const directive = out.endsWith(`:${NO_FILE_COMP}\n`)
      ? "ShellCompDirectiveNoFileComp"
      : "ShellCompDirectiveDefault";
    process.stderr.write(`Completion ended with directive: ${directive}\n`);
  };
  return [
    {
      use: "__complete [command-line]",
      short: "Request shell completion choices for the specified command-line",
      hidden: true,
      disableFlagParsing: true,
      run: run(true),
    },
    {
      use: "__completeNoDesc [command-line]",
      short: "Request shell completion choices for the specified command-line, without descriptions",
      hidden: true,
      disableFlagParsing: true,
      run: run(false),
    },
  ];
}
