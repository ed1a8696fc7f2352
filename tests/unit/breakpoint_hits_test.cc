// breakpoint_hits_test.cc — which debug registers one access fires
// (lib/engine/breakpoint_hits.h).
#include "breakpoint_hits.h"

#include <gtest/gtest.h>

namespace racetrap {
namespace {

MemoryAccess access_of(uint64_t address, uint32_t size, AccessKind kind) {
  MemoryAccess a;
  a.address = address;
  a.size = size;
  a.kind = kind;
  return a;
}

// A flag store fires both the owner's write-only release register and another
// watch's read-write register on the same word; a load fires only the latter.
TEST(BreakpointHits, StoreFiresWriteAndReadWriteRegistersOnItsBytes) {
  const ArmedBreakpoint release{0x1000, 4, BreakpointType::kWrite};
  const ArmedBreakpoint acquire{0x1000, 4, BreakpointType::kReadWrite};
  const MemoryAccess store = access_of(0x1000, 4, AccessKind::kWrite);
  const MemoryAccess load = access_of(0x1000, 4, AccessKind::kRead);
  EXPECT_TRUE(breakpoint_fires_on(release, store));
  EXPECT_TRUE(breakpoint_fires_on(acquire, store));
  EXPECT_FALSE(breakpoint_fires_on(release, load));
  EXPECT_TRUE(breakpoint_fires_on(acquire, load));
  EXPECT_TRUE(breakpoint_fires_on(release, access_of(0x1000, 4, AccessKind::kReadWrite)));  // LOCK add, XCHG
}

TEST(BreakpointHits, OnlyOverlappingBytesFire) {
  const ArmedBreakpoint word{0x2008, 8, BreakpointType::kReadWrite};
  EXPECT_FALSE(breakpoint_fires_on(word, access_of(0x2000, 8, AccessKind::kWrite)));  // ends where it begins
  EXPECT_FALSE(breakpoint_fires_on(word, access_of(0x2010, 4, AccessKind::kWrite)));  // begins where it ends
  EXPECT_TRUE(breakpoint_fires_on(word, access_of(0x2007, 2, AccessKind::kRead)));    // its first byte
  EXPECT_TRUE(breakpoint_fires_on(word, access_of(0x2000, 32, AccessKind::kWrite)));  // a vector store over it
  EXPECT_FALSE(breakpoint_fires_on(ArmedBreakpoint{}, access_of(0, 8, AccessKind::kWrite)));  // never armed
  EXPECT_FALSE(breakpoint_fires_on(word, access_of(0x2008, 0, AccessKind::kWrite)));
}

// With the access unknown, every register whose bytes one access of at most 64
// bytes could reach together with the delivered register's may have fired.
TEST(BreakpointHits, UnknownAccessMayHaveFiredRegistersWithin63Bytes) {
  const ArmedBreakpoint delivered{0x3040, 4, BreakpointType::kWrite};
  EXPECT_TRUE(breakpoint_may_share_hit(delivered, ArmedBreakpoint{0x3040, 4, BreakpointType::kReadWrite}));
  EXPECT_TRUE(breakpoint_may_share_hit(delivered, ArmedBreakpoint{0x3000, 2, BreakpointType::kWrite}));  // 0x3001 is 63 before
  EXPECT_FALSE(breakpoint_may_share_hit(delivered, ArmedBreakpoint{0x3000, 1, BreakpointType::kWrite}));  // 64 before
  EXPECT_TRUE(breakpoint_may_share_hit(delivered, ArmedBreakpoint{0x3080, 8, BreakpointType::kWrite}));  // within 63 bytes after its end
  EXPECT_FALSE(breakpoint_may_share_hit(delivered, ArmedBreakpoint{0x3088, 8, BreakpointType::kWrite}));
  EXPECT_FALSE(breakpoint_may_share_hit(delivered, ArmedBreakpoint{}));
  EXPECT_TRUE(breakpoint_may_share_hit(ArmedBreakpoint{8, 8, BreakpointType::kWrite},
                                       ArmedBreakpoint{0, 8, BreakpointType::kWrite}));  // near address 0
}

}  // namespace
}  // namespace racetrap
