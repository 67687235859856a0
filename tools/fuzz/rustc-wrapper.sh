#!/usr/bin/env bash
# RUSTC_WRAPPER for `cargo xtask fuzz`: adds libFuzzer's coverage instrumentation (SanitizerCoverage
# through stable rustc codegen options) to this workspace's crates only, so that coverage
# guides the fuzzer through our code, not Burn's, and dependencies build as usual.
rustc="$1"
shift
case " $* " in
  *" --crate-name hashformer_"*)
    exec "$rustc" "$@" \
      -Cpasses=sancov-module \
      -Cllvm-args=-sanitizer-coverage-level=4 \
      -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
      -Cllvm-args=-sanitizer-coverage-pc-table \
      -Cllvm-args=-sanitizer-coverage-trace-compares \
      --cfg fuzzing ;;
  *) exec "$rustc" "$@" ;;
esac
