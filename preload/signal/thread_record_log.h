// thread_record_log.h — puts a thread's ThreadRecord (uid, creator, creation
// stack, stack and TLS ranges) into the raw stream the first time a report needs
// it: once per slot and thread, whoever asks first (trap handler, lock tracking).
// signal-safe: fixed arrays in the Runtime, atomics, one write(2).
#pragma once

#include <cstdint>

#include "runtime.h"

namespace racetrap {

// signal-safe. Appends the record of `slot` once, if it still describes thread `uid`.
void log_thread_once(Runtime& rt, uint32_t slot, uint32_t uid);

// signal-safe. Appends (once) the record of the thread whose stack or TLS holds
// `address`, if any: the report can then say "stack of thread Tn" even when that
// thread is neither of the two racing ones. Scans only the slots ever leased.
void log_memory_owner_once(Runtime& rt, uint64_t address);

// A thread slot was leased: widens the range log_memory_owner_once scans.
void note_thread_slot_used(Runtime& rt, uint32_t slot);

}  // namespace racetrap
