// How hard the fuzz test tries. CI uses the defaults (fixed seed, bounded count); for a longer
// hunt: FUZZ_RUNS=2000 FUZZ_SEED=$RANDOM npx jest test/fuzz
const positive = (value: string | undefined, fallback: number, max: number) => {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`fuzz setting ${value} is not an integer in 1..${max}`);
  return n;
};

export const fuzzConfig = {
  /** fast-check seed: the same seed replays the same requests. */
  seed: positive(process.env.FUZZ_SEED, 20261124, 2 ** 31 - 1),
  /** Generated requests per operation of openapi.yaml. */
  runsPerOperation: positive(process.env.FUZZ_RUNS, 20, 100_000),
};
