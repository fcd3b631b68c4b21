// Deliberate, classic Raft bugs that the simulator's mutation test switches on one at a time to prove
// the checkers catch them. All false in every real run; nothing outside tests may set them.

export const raftTestBugs = {
  /** Commit an entry of a previous term by counting replicas (Raft paper, Figure 8). */
  commitPreviousTermByCount: false,
  /** Grant votes without checking that the candidate's log is at least as up to date (§5.4.1). */
  voteWithoutLogCheck: false,
  /** Hand entries to the application before they are committed. */
  applyUncommitted: false,
  /** Leave the vote out of the hard state that must be persisted. */
  forgetVote: false,
};

export function resetRaftTestBugs(): void {
  raftTestBugs.commitPreviousTermByCount = false;
  raftTestBugs.voteWithoutLogCheck = false;
  raftTestBugs.applyUncommitted = false;
  raftTestBugs.forgetVote = false;
}
