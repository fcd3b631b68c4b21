// Discovery's named errors, with etcd's texts (v2discovery, v3discovery, the SRV lookup), and the wrapper
// etcd reports a failed bootstrap with: "failed to join discovery cluster (discovery: cluster is full)".

/** An error of the discovery protocol itself (not of the network): never retried. */
export class DiscoveryProtocolError extends Error {}

const named = (msg: string) => new DiscoveryProtocolError(msg);

export const ErrInvalidURL = named("discovery: invalid URL");
/** v3discovery's text for the same condition. */
export const ErrInvalidPeerURL = named("discovery: invalid peer URL");
export const ErrBadSizeKey = named("discovery: size key is bad");
export const ErrSizeNotFound = named("discovery: size key not found");
export const ErrTokenNotFound = named("discovery: token not found");
export const ErrDuplicateID = named("discovery: found duplicate id");
export const ErrDuplicateName = named("discovery: found duplicate name");
export const ErrFullCluster = named("discovery: cluster is full");
export const ErrTooManyRetries = named("discovery: too many retries");
export const ErrBadDiscoveryEndpoint = named("discovery: bad discovery endpoint");

/** etcd's etcdserver.DiscoveryError: what a member that could not bootstrap by discovery reports. */
export class DiscoveryError extends Error {
  constructor(
    readonly op: string,
    readonly err: Error,
  ) {
    super(`failed to ${op} discovery cluster (${err.message})`);
  }
}
