// Debian's libsystemc.so defines main() and calls sc_main(), so every test
// executable provides sc_main and runs GoogleTest from it.
#include <gtest/gtest.h>

#include <systemc>

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
