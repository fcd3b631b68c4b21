// Which members hold a different key space. Hashes are comparable only when taken at the same revision
// over the same compacted range: a member whose compaction has not (or has already) been applied hashes
// a different range, and a member behind or ahead cannot be compared at all. Among comparable members,
// a hash held by a strict majority is the truth and every other member is corrupt (the leader too, if it
// is the odd one); without a majority, the members that differ from the leader are (etcd's rule).

export interface MemberHash {
  id: bigint;
  hash: number;
  compactRevision: number;
  /** The revision the hash was taken at. */
  hashRevision: number;
}

export function corruptMembers(self: MemberHash, peers: readonly MemberHash[]): bigint[] {
  const comparable = peers.filter(
    (p) => p.compactRevision === self.compactRevision && p.hashRevision === self.hashRevision,
  );
  if (comparable.every((p) => p.hash === self.hash)) return [];
  const all = [self, ...comparable];
  const counts = new Map<number, number>();
  for (const m of all) counts.set(m.hash, (counts.get(m.hash) ?? 0) + 1);
  let truth = self.hash;
  for (const [h, n] of counts) if (2 * n > all.length) truth = h;
  return all.filter((m) => m.hash !== truth).map((m) => m.id);
}
