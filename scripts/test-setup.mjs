// Loaded into every test process (node --test --import): property tests run from a fixed seed so every
// run is the same and a failure replays. FC_SEED=<n> explores other seeds; the seed is printed on failure.
import fc from "fast-check";

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });
