// `etcd`'s configuration: flags, ETCD_* environment variables and --config-file -> ServerConfig.

export {
  DEPRECATED_FLAGS,
  FLAGS,
  type FlagSpec,
  flagToEnv,
  helpText,
  IGNORED_FLAGS,
  USAGE,
} from "./flags.js";
export {
  type BootstrapInput,
  type ParseExit,
  type ParseOptions,
  type ParseResult,
  parseEtcdConfig,
  parseInitialCluster,
  verifyBootstrap,
  versionText,
} from "./parse.js";
