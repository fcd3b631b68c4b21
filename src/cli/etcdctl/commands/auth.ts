// auth enable/disable/status, user add/delete/get/list/passwd/grant-role/revoke-role, role
// add/delete/get/list/grant-permission/revoke-permission. `auth enable` creates the root role (and grants
// it to root) when the server asks for it, as etcdctl does. User and role commands have no deadline
// (etcdctl runs them with context.TODO()).

import { Permission_Type } from "../../../api/gen/authpb/auth.js";
import { AuthService } from "../../../api/gen/etcdserverpb/rpc.js";
import type { CommandSpec, RunContext } from "../command.js";
import { display } from "../display.js";
import { RpcError } from "../errors.js";
import { ExitBadArgs, ExitError, exitWithError } from "../exit.js";
import { askPassword, commandDeadline, mustClient } from "../globals.js";
import { keyBytes, prefixRangeEnd } from "../keys.js";
import { outln } from "../out.js";
import { SyncLineReader } from "../stdin.js";

function rpcFail(e: unknown): never {
  if (e instanceof RpcError) exitWithError(ExitError, e.message);
  throw e;
}

function noArgs(ctx: RunContext, what: string): void {
  if (ctx.args.length !== 0) exitWithError(ExitBadArgs, `${what} command does not accept any arguments`);
}

async function authStatusRun(ctx: RunContext): Promise<void> {
  noArgs(ctx, "auth status");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.authStatus, {}, { deadline: commandDeadline(ctx), idempotent: true })
    .catch(rpcFail);
  display().authStatus(r);
  conn.close();
}

async function authEnableRun(ctx: RunContext): Promise<void> {
  noArgs(ctx, "auth enable");
  const deadline = commandDeadline(ctx);
  const conn = await mustClient(ctx);
  for (;;) {
    try {
      await conn.unary(AuthService.authEnable, {}, { deadline });
      break;
    } catch (e) {
      if (!(e instanceof RpcError) || !e.is("etcdserver: root user does not have root role")) rpcFail(e);
      await conn.unary(AuthService.roleAdd, { name: "root" }, { deadline }).catch(rpcFail);
      await conn
        .unary(AuthService.userGrantRole, { user: "root", role: "root" }, { deadline })
        .catch(rpcFail);
    }
  }
  outln("Authentication Enabled");
  conn.close();
}

async function authDisableRun(ctx: RunContext): Promise<void> {
  noArgs(ctx, "auth disable");
  const conn = await mustClient(ctx);
  await conn.unary(AuthService.authDisable, {}, { deadline: commandDeadline(ctx) }).catch(rpcFail);
  outln("Authentication Disabled");
  conn.close();
}

/** fmt.Scanf("%s"): the first space-separated word of stdin's first line. */
function scanWord(): string {
  const { line } = new SyncLineReader().readLine();
  return line.trim().split(/\s+/)[0] ?? "";
}

/** speakeasy prompts twice (--interactive, the default) and insists both match. */
function readPasswordInteractive(name: string): string {
  const p1 = askPassword(`Password of ${name}: `);
  if (p1.length === 0) exitWithError(ExitBadArgs, "empty password");
  const p2 = askPassword(`Type password of ${name} again for confirmation: `);
  if (p1 !== p2) exitWithError(ExitBadArgs, "given passwords are different");
  return p1;
}

async function userAddRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "user add command requires user name as its argument");
  const f = ctx.flags;
  let user = ctx.args[0]!;
  let password = "";
  const noPassword = f.bool("no-password");
  if (!noPassword) {
    if (f.str("new-user-password") !== "") password = f.str("new-user-password");
    else {
      const i = user.indexOf(":");
      if (i < 0) password = f.bool("interactive") ? readPasswordInteractive(user) : scanWord();
      else {
        password = user.slice(i + 1);
        user = user.slice(0, i);
        if (user.length === 0) exitWithError(ExitBadArgs, "empty user name is not allowed");
      }
    }
  }
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(
      AuthService.userAdd,
      { name: user, password, options: { noPassword }, hashedPassword: "" },
      { deadline: undefined },
    )
    .catch(rpcFail);
  display().userAdd(user, r);
  conn.close();
}

async function userDeleteRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "user delete command requires user name as its argument");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.userDelete, { name: ctx.args[0]! }, { deadline: undefined })
    .catch(rpcFail);
  display().userDelete(ctx.args[0]!, r);
  conn.close();
}

async function userGetRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "user get command requires user name as its argument");
  const name = ctx.args[0]!;
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.userGet, { name }, { deadline: undefined, idempotent: true })
    .catch(rpcFail);
  if (ctx.flags.bool("detail")) {
    outln(`User: ${name}`);
    for (const role of r.roles) {
      outln("");
      const rr = await conn
        .unary(AuthService.roleGet, { role }, { deadline: undefined, idempotent: true })
        .catch(rpcFail);
      display().roleGet(role, rr);
    }
  } else display().userGet(name, r);
  conn.close();
}

async function userListRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 0) exitWithError(ExitBadArgs, "user list command requires no arguments");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.userList, {}, { deadline: undefined, idempotent: true })
    .catch(rpcFail);
  display().userList(r);
  conn.close();
}

async function userPasswdRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "user passwd command requires user name as its argument");
  const name = ctx.args[0]!;
  const password = ctx.flags.bool("interactive") ? readPasswordInteractive(name) : scanWord();
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.userChangePassword, { name, password, hashedPassword: "" }, { deadline: undefined })
    .catch(rpcFail);
  display().userChangePassword(r);
  conn.close();
}

async function userGrantRoleRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 2) {
    exitWithError(ExitBadArgs, "user grant command requires user name and role name as its argument");
  }
  const [user, role] = ctx.args as [string, string];
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.userGrantRole, { user, role }, { deadline: undefined })
    .catch(rpcFail);
  display().userGrantRole(user, role, r);
  conn.close();
}

async function userRevokeRoleRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 2) {
    exitWithError(ExitBadArgs, "user revoke-role requires user name and role name as its argument");
  }
  const [name, role] = ctx.args as [string, string];
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.userRevokeRole, { name, role }, { deadline: undefined })
    .catch(rpcFail);
  display().userRevokeRole(name, role, r);
  conn.close();
}

async function roleAddRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "role add command requires role name as its argument");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.roleAdd, { name: ctx.args[0]! }, { deadline: undefined })
    .catch(rpcFail);
  display().roleAdd(ctx.args[0]!, r);
  conn.close();
}

async function roleDeleteRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "role delete command requires role name as its argument");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.roleDelete, { role: ctx.args[0]! }, { deadline: undefined })
    .catch(rpcFail);
  display().roleDelete(ctx.args[0]!, r);
  conn.close();
}

async function roleGetRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 1)
    exitWithError(ExitBadArgs, "role get command requires role name as its argument");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.roleGet, { role: ctx.args[0]! }, { deadline: undefined, idempotent: true })
    .catch(rpcFail);
  display().roleGet(ctx.args[0]!, r);
  conn.close();
}

async function roleListRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length !== 0) exitWithError(ExitBadArgs, "role list command requires no arguments");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(AuthService.roleList, {}, { deadline: undefined, idempotent: true })
    .catch(rpcFail);
  display().roleList(r);
  conn.close();
}

/** permRange / rangeEndFromPermFlags: the permission's key and range end from the arguments and flags. */
function permRange(ctx: RunContext, args: string[]): { key: string; rangeEnd: string } {
  const prefix = ctx.flags.bool("prefix");
  const fromKey = ctx.flags.bool("from-key");
  let key = args[0]!;
  let rangeEnd = "";
  if (key.length === 0) {
    if (prefix && fromKey) exitWithError(ExitBadArgs, "--from-key and --prefix flags are mutually exclusive");
    key = "\x00";
    if (prefix || fromKey) rangeEnd = "\x00";
    return { key, rangeEnd };
  }
  if (args.length === 1) {
    if (prefix) {
      if (fromKey) exitWithError(ExitBadArgs, "--from-key and --prefix flags are mutually exclusive");
      rangeEnd = Buffer.from(prefixRangeEnd(keyBytes(key))).toString("latin1");
    } else if (fromKey) rangeEnd = "\x00";
    return { key, rangeEnd };
  }
  if (prefix) exitWithError(ExitBadArgs, "unexpected endkey argument with --prefix flag");
  if (fromKey) exitWithError(ExitBadArgs, "unexpected endkey argument with --from-key flag");
  return { key, rangeEnd: args[1]! };
}

/** A range end built by permRange as bytes: latin1 for the computed prefix end, UTF-8 for user text. */
function endBytes(end: string, computed: boolean): Uint8Array {
  return computed ? Buffer.from(end, "latin1") : keyBytes(end);
}

async function roleGrantRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length < 3) {
    exitWithError(
      ExitBadArgs,
      "role grant command requires role name, permission type, and key [endkey] as its argument",
    );
  }
  const types: Record<string, Permission_Type> = {
    READ: Permission_Type.READ,
    WRITE: Permission_Type.WRITE,
    READWRITE: Permission_Type.READWRITE,
  };
  const permType = types[ctx.args[1]!.toUpperCase()];
  if (permType === undefined) exitWithError(ExitBadArgs, `invalid permission type: ${ctx.args[1]}`);
  const { key, rangeEnd } = permRange(ctx, ctx.args.slice(2));
  const computed = ctx.args.length === 3 && ctx.flags.bool("prefix");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(
      AuthService.roleGrantPermission,
      { name: ctx.args[0]!, perm: { permType, key: keyBytes(key), rangeEnd: endBytes(rangeEnd, computed) } },
      { deadline: undefined },
    )
    .catch(rpcFail);
  display().roleGrantPermission(ctx.args[0]!, r);
  conn.close();
}

async function roleRevokeRun(ctx: RunContext): Promise<void> {
  if (ctx.args.length < 2) {
    exitWithError(
      ExitBadArgs,
      "role revoke-permission command requires role name and key [endkey] as its argument",
    );
  }
  const { key, rangeEnd } = permRange(ctx, ctx.args.slice(1));
  const computed = ctx.args.length === 2 && ctx.flags.bool("prefix");
  const conn = await mustClient(ctx);
  const r = await conn
    .unary(
      AuthService.roleRevokePermission,
      { role: ctx.args[0]!, key: keyBytes(key), rangeEnd: endBytes(rangeEnd, computed) },
      { deadline: undefined },
    )
    .catch(rpcFail);
  display().roleRevokePermission(ctx.args[0]!, ctx.args[1]!, rangeEnd, r);
  conn.close();
}

export function authSpec(): CommandSpec {
  return {
    use: "auth <enable or disable>",
    short: "Enable or disable authentication",
    subcommands: [
      { use: "enable", short: "Enables authentication", run: authEnableRun },
      { use: "disable", short: "Disables authentication", run: authDisableRun },
      { use: "status", short: "Returns authentication status", run: authStatusRun },
    ],
  };
}

export function userSpec(): CommandSpec {
  return {
    use: "user <subcommand>",
    short: "User related commands",
    subcommands: [
      {
        use: "add <user name or user:password> [options]",
        short: "Adds a new user",
        flags: [
          {
            name: "interactive",
            kind: "bool",
            def: true,
            usage: "Read password from stdin instead of interactive terminal",
          },
          {
            name: "new-user-password",
            kind: "string",
            def: "",
            usage: "Supply password from the command line flag",
          },
          {
            name: "no-password",
            kind: "bool",
            def: false,
            usage: "Create a user without password (CN based auth only)",
          },
        ],
        run: userAddRun,
      },
      { use: "delete <user name>", short: "Deletes a user", run: userDeleteRun },
      {
        use: "get <user name> [options]",
        short: "Gets detailed information of a user",
        flags: [
          {
            name: "detail",
            kind: "bool",
            def: false,
            usage: "Show permissions of roles granted to the user",
          },
        ],
        run: userGetRun,
      },
      { use: "list", short: "Lists all users", run: userListRun },
      {
        use: "passwd <user name> [options]",
        short: "Changes password of user",
        flags: [
          {
            name: "interactive",
            kind: "bool",
            def: true,
            usage: "If true, read password from stdin instead of interactive terminal",
          },
        ],
        run: userPasswdRun,
      },
      { use: "grant-role <user name> <role name>", short: "Grants a role to a user", run: userGrantRoleRun },
      {
        use: "revoke-role <user name> <role name>",
        short: "Revokes a role from a user",
        run: userRevokeRoleRun,
      },
    ],
  };
}

export function roleSpec(): CommandSpec {
  return {
    use: "role <subcommand>",
    short: "Role related commands",
    subcommands: [
      { use: "add <role name>", short: "Adds a new role", run: roleAddRun },
      { use: "delete <role name>", short: "Deletes a role", run: roleDeleteRun },
      { use: "get <role name>", short: "Gets detailed information of a role", run: roleGetRun },
      { use: "list", short: "Lists all roles", run: roleListRun },
      {
        use: "grant-permission [options] <role name> <permission type> <key> [endkey]",
        short: "Grants a key to a role",
        flags: [
          { name: "prefix", kind: "bool", def: false, usage: "grant a prefix permission" },
          {
            name: "from-key",
            kind: "bool",
            def: false,
            usage:
              "grant a permission of keys that are greater than or equal to the given key using byte compare",
          },
        ],
        run: roleGrantRun,
      },
      {
        use: "revoke-permission <role name> <key> [endkey]",
        short: "Revokes a key from a role",
        flags: [
          { name: "prefix", kind: "bool", def: false, usage: "revoke a prefix permission" },
          {
            name: "from-key",
            kind: "bool",
            def: false,
            usage:
              "revoke a permission of keys that are greater than or equal to the given key using byte compare",
          },
        ],
        run: roleRevokeRun,
      },
    ],
  };
}
