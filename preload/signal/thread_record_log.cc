// thread_record_log.cc — see thread_record_log.h. signal-safe throughout.
#include "thread_record_log.h"

namespace racetrap {

void log_thread_once(Runtime& rt, uint32_t slot, uint32_t uid) {
  if (slot >= kMaxThreadSlots || rt.thread_records[slot].uid != uid) return;
  if (rt.thread_record_logged[slot].exchange(uid + 1, std::memory_order_acq_rel) == uid + 1) return;
  rt.raw_log.append_thread(rt.thread_records[slot]);
}

void log_memory_owner_once(Runtime& rt, uint64_t address) {
  uint32_t used = rt.thread_slots_used.load(std::memory_order_acquire);
  if (used > kMaxThreadSlots) used = kMaxThreadSlots;
  // glibc reuses the stacks of exited threads, whose records stay until their slot
  // is reused: the newest thread (highest uid) holding the address is the owner.
  uint32_t best_slot = kMaxThreadSlots;
  uint32_t best_uid = 0;
  for (uint32_t slot = 0; slot < used; ++slot) {
    const ThreadRecord& r = rt.thread_records[slot];
    bool on_stack = r.stack_begin <= address && address < r.stack_end;
    bool in_tls = r.tls_begin <= address && address < r.tls_end;
    if ((on_stack || in_tls) && (best_slot == kMaxThreadSlots || r.uid > best_uid)) {
      best_slot = slot;
      best_uid = r.uid;
    }
  }
  if (best_slot != kMaxThreadSlots) log_thread_once(rt, best_slot, best_uid);
}

void note_thread_slot_used(Runtime& rt, uint32_t slot) {
  uint32_t want = slot + 1;
  uint32_t seen = rt.thread_slots_used.load(std::memory_order_relaxed);
  while (seen < want && !rt.thread_slots_used.compare_exchange_weak(seen, want, std::memory_order_acq_rel)) {
  }
}

}  // namespace racetrap
