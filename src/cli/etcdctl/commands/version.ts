// version: etcdctl's own version and the API version it speaks.

import type { CommandSpec } from "../command.js";
import { API_VERSION, VERSION } from "../meta.js";
import { outln } from "../out.js";

export function versionSpec(): CommandSpec {
  return {
    use: "version",
    short: "Prints the version of etcdctl",
    run: () => outln(`etcdctl version: ${VERSION}\nAPI version: ${API_VERSION}`),
  };
}
