// clock_builders.h — vector clocks written out as epoch lists, for the clock tests.
#pragma once

#include <initializer_list>

#include "vector_clock.h"

namespace racetrap::testing {

// A clock whose slot i holds the i-th epoch of the list.
inline VectorClock make_clock(std::initializer_list<Epoch> epochs) {
  VectorClock c;
  uint32_t i = 0;
  for (Epoch e : epochs) c.set(i++, e);
  return c;
}

}  // namespace racetrap::testing
