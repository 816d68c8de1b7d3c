// Debian's libsystemc.so defines main() and calls sc_main(): run the
// benchmarks from sc_main.
#include <benchmark/benchmark.h>

#include <systemc>

int sc_main(int argc, char* argv[]) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
