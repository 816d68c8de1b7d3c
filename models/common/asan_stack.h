// AddressSanitizer and SystemC's coroutine stacks.
//
// Debian's SystemC 2.3.4 runs every SC_THREAD on a coroutine stack of its own
// and announces each switch to ASan (weak references to the fiber API), but
// once sc_start() has returned to the caller, ASan still takes the stack of
// the last coroutine that ran for the current one. An exception thrown on the
// main stack after that (a CPU's error rethrown by Simulation::run) makes ASan
// print "ignoring requested __asan_handle_no_return" and leave the unwound
// frames' stack redzones poisoned, so a later, valid use of that stack memory
// (a destructor's locals) is reported as a stack-buffer-overflow.
//
// main_stack_after_systemc() announces a switch to the calling thread's own
// stack, so ASan knows where it runs again. Call it right after sc_start()
// returns. It compiles to nothing without ASan.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define MMUSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MMUSIM_ASAN 1
#endif
#endif

#if defined(MMUSIM_ASAN)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>

#include <cstddef>
#endif

namespace mmusim {

inline void main_stack_after_systemc() {
#if defined(MMUSIM_ASAN)
  struct Stack {
    void* base = nullptr;
    size_t size = 0;
  };
  // The thread's stack does not move; ask once (for the main thread glibc
  // reads /proc/self/maps).
  thread_local const Stack stack = [] {
    Stack s;
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
      pthread_attr_getstack(&a, &s.base, &s.size);
      pthread_attr_destroy(&a);
    }
    return s;
  }();
  if (stack.base == nullptr) return;
  void* fake = nullptr;
  __sanitizer_start_switch_fiber(&fake, stack.base, stack.size);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
}

}  // namespace mmusim
