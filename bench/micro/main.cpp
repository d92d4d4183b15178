// lanetcp-microbench: Google Benchmark microbenchmarks of lanetcp's hot
// paths; the benchmarks are in bench_*.cpp, one file per area.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
