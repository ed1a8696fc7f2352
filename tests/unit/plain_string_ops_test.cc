// plain_string_ops_test.cc — the copies used while a debug register is armed give
// what memcpy, memmove and memset give: every size around the 64-byte step, every
// alignment of both ends, and memmove with the ranges overlapping either way.
#include "plain_string_ops.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace racetrap {
namespace {

const size_t kSizes[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 2047, 2048, 2049, 4096 + 7, 70000};
const size_t kOffsets[] = {0, 1, 3, 8, 15, 33};

// A buffer of recognisable bytes, with room around the copied range so a write
// outside it shows.
std::vector<unsigned char> pattern(size_t n, unsigned seed) {
  std::vector<unsigned char> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<unsigned char>(x >> 24);
  }
  return v;
}

TEST(PlainStringOps, MemcpyMatchesAByteCopy) {
  for (size_t n : kSizes) {
    for (size_t from : kOffsets) {
      for (size_t to : kOffsets) {
        const std::vector<unsigned char> src = pattern(n + 128, 1);
        std::vector<unsigned char> dst = pattern(n + 128, 2);
        std::vector<unsigned char> want = dst;
        for (size_t i = 0; i < n; ++i) want[to + i] = src[from + i];
        EXPECT_EQ(plain_memcpy(dst.data() + to, src.data() + from, n), dst.data() + to);
        ASSERT_EQ(dst, want) << "n=" << n << " from=" << from << " to=" << to;
      }
    }
  }
}

TEST(PlainStringOps, MemmoveMatchesACopyThroughATemporaryForEveryOverlap) {
  const size_t shifts[] = {0, 1, 7, 16, 63, 64, 65, 1000};
  for (size_t n : kSizes) {
    for (size_t shift : shifts) {
      for (int direction : {-1, 1}) {
        std::vector<unsigned char> buf = pattern(n + 2 * 1000 + 256, 3);
        const size_t src = 1000 + 64 + 5;
        const size_t dst = direction > 0 ? src + shift : src - shift;
        std::vector<unsigned char> want = buf;
        const std::vector<unsigned char> tmp(buf.begin() + src, buf.begin() + src + n);
        for (size_t i = 0; i < n; ++i) want[dst + i] = tmp[i];
        EXPECT_EQ(plain_memmove(buf.data() + dst, buf.data() + src, n), buf.data() + dst);
        ASSERT_EQ(buf, want) << "n=" << n << " shift=" << shift << " direction=" << direction;
      }
    }
  }
}

TEST(PlainStringOps, MemsetFillsExactlyTheRange) {
  for (size_t n : kSizes) {
    for (size_t to : kOffsets) {
      std::vector<unsigned char> buf = pattern(n + 128, 4);
      std::vector<unsigned char> want = buf;
      for (size_t i = 0; i < n; ++i) want[to + i] = 0xa5;
      EXPECT_EQ(plain_memset(buf.data() + to, 0x1a5, n), buf.data() + to);  // only the low byte counts
      ASSERT_EQ(buf, want) << "n=" << n << " to=" << to;
    }
  }
}

TEST(PlainStringOps, TheirCodeIsToldApartFromOtherCode) {
  EXPECT_TRUE(in_plain_string_ops(reinterpret_cast<uintptr_t>(&plain_memcpy)));
  EXPECT_TRUE(in_plain_string_ops(reinterpret_cast<uintptr_t>(&plain_memmove)));
  EXPECT_TRUE(in_plain_string_ops(reinterpret_cast<uintptr_t>(&plain_memset)));
  EXPECT_FALSE(in_plain_string_ops(reinterpret_cast<uintptr_t>(&pattern)));
  EXPECT_FALSE(in_plain_string_ops(0));
}

}  // namespace
}  // namespace racetrap
