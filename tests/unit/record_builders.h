// record_builders.h — raw-stream records built by hand for the reader and report
// tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "race_record.h"

namespace racetrap::testing {

inline StackRecord make_stack(std::initializer_list<uint64_t> pcs) {
  StackRecord s;
  std::memset(&s, 0, sizeof s);
  for (uint64_t pc : pcs) s.frames[s.frame_count++] = pc;
  return s;
}

inline ThreadRecord make_thread(uint32_t uid, uint32_t parent, uint32_t tid, const char* name,
                                std::initializer_list<uint64_t> creation) {
  ThreadRecord t;
  std::memset(&t, 0, sizeof t);
  t.uid = uid;
  t.parent_uid = parent;
  t.os_tid = tid;
  std::snprintf(t.name, sizeof t.name, "%s", name);
  t.creation = make_stack(creation);
  return t;
}

}  // namespace racetrap::testing
