// random.h — xorshift64* generator, one per thread. signal-safe.
#pragma once

#include <cstdint>

namespace racetrap {

class Random {
 public:
  explicit Random(uint64_t seed = 0x9e3779b97f4a7c15ull) : state_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545f4914f6cdd1dull;
  }
  // Uniform in [0, n), n > 0.
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }

 private:
  uint64_t state_;
};

}  // namespace racetrap
