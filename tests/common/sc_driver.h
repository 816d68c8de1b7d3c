// A SystemC thread that runs a test's body with one TLM initiator socket
// (`out`), for tests that drive public modules by hand.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <functional>
#include <systemc>
#include <utility>

namespace mmusim::testing {

class Driver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Driver> out;
  SC_HAS_PROCESS(Driver);
  Driver(const sc_core::sc_module_name& n, std::function<void(Driver&)> body)
      : sc_module(n), out("out"), body_(std::move(body)) {
    SC_THREAD(run);
  }
  void run() { body_(*this); }

 private:
  std::function<void(Driver&)> body_;
};

}  // namespace mmusim::testing
