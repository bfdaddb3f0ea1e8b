// LH_RETURN_IF_ERROR: Abseil 20220623 has no status macros of its own.
#pragma once

#include "absl/status/status.h"

// Evaluates `expr` (an absl::Status) once and returns it from the enclosing
// function unless it is OK.
#define LH_RETURN_IF_ERROR(expr)                                \
  do {                                                          \
    if (::absl::Status lh_status_ = (expr); !lh_status_.ok()) { \
      return lh_status_;                                        \
    }                                                           \
  } while (false)
