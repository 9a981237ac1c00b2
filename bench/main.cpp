// The one BENCHMARK_MAIN shared by every micro benchmark executable.
#include <benchmark/benchmark.h>
BENCHMARK_MAIN();
