// Kept so that code written against the old location still compiles; the
// schema lives in models/common/config_schema.h (include that in new code).
// tests/sim/test_config.cc and tests/sim/test_cli.cc include this header and
// are deliberately left unchanged by the move.
#pragma once

#include "models/common/config_schema.h"
