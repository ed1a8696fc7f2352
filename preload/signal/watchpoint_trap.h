// watchpoint_trap.h — a debug register fired: decide race or not, record a race.
// signal-safe.
#pragma once

#include <cstdint>

namespace racetrap {
struct ThreadState;
struct AccessRecord;
struct MemoryAccess;

// signal-safe. The raw stream's record of one access by thread uid/tid.
void fill_access(AccessRecord& out, const MemoryAccess& a, uint32_t uid, uint32_t tid);
// A race of the PC pair {sampled_pc, other_pc} was found (either mode): true the
// first time, when it is to be recorded; later it is counted as a repeat (and the
// running total written out now and then). signal-safe.
bool first_report_of_pair(uint64_t sampled_pc, uint64_t other_pc);

void on_watchpoint_trap(ThreadState& t, void* ucontext, unsigned slot, uint64_t generation, bool async);
}  // namespace racetrap
