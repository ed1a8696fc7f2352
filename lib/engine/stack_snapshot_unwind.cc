// stack_snapshot_unwind.cc — unwinding a StackSnapshot (see stack_snapshot.h)
// through a libunwind address space of its own: registers and stack memory come
// from the snapshot, every other address (code, .eh_frame) is read in place, and
// the unwind tables are found by the local unwinder (stack_capture.h), so only the
// stepping is the generic library's.
#include <libunwind.h>  // the generic interface (no UNW_LOCAL_ONLY): unw_init_remote

#include "stack_capture.h"
#include "stack_snapshot.h"
#include "unwind_fork_gate.h"
#include "unwind_signal_block.h"

namespace racetrap {
namespace {

const StackSnapshot* as_snapshot(void* arg) { return static_cast<const StackSnapshot*>(arg); }

int find_proc_info(unw_addr_space_t, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info, void*) {
  return local_find_proc_info(ip, pi, need_unwind_info);
}

void put_unwind_info(unw_addr_space_t, unw_proc_info_t* pi, void*) { local_put_unwind_info(pi); }

int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t* value, int write, void* arg) {
  if (write) return -UNW_EREADONLYREG;
  const StackSnapshot& s = *as_snapshot(arg);
  if (addr >= s.base && addr + sizeof(unw_word_t) <= s.base + s.length) {
    __builtin_memcpy(value, s.bytes + (addr - s.base), sizeof(unw_word_t));
    return 0;
  }
  // The rest of the thread's stack has changed since: end the walk there.
  // Anything else (code, unwind tables, the dynamic loader's data) is as it was.
  if (addr + sizeof(unw_word_t) > s.stack_begin && addr < s.stack_end) return -UNW_EINVAL;
  *value = *reinterpret_cast<const unw_word_t*>(addr);
  return 0;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* value, int write, void* arg) {
  if (write || reg < 0 || reg > UNW_X86_64_RIP) return -UNW_EBADREG;
  *value = as_snapshot(arg)->regs[reg];
  return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EBADREG; }
int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
int get_proc_name(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

unw_addr_space_t snapshot_space() {
  static unw_addr_space_t space = [] {
    unw_accessors_t acc{};
    acc.find_proc_info = find_proc_info;
    acc.put_unwind_info = put_unwind_info;
    acc.get_dyn_info_list_addr = get_dyn_info_list_addr;
    acc.access_mem = access_mem;
    acc.access_reg = access_reg;
    acc.access_fpreg = access_fpreg;
    acc.resume = resume;
    acc.get_proc_name = get_proc_name;
    unw_addr_space_t as = unw_create_addr_space(&acc, 0);
    if (as != nullptr) unw_set_caching_policy(as, UNW_CACHE_GLOBAL);
    return as;
  }();
  return space;
}

}  // namespace

void unwind_stack_snapshot(const StackSnapshot& snapshot, StackRecord* out) {
  out->frame_count = 0;
  const UnwindPermit permit;  // none while a fork waits (unwind_fork_gate.h)
  if (!permit.allowed()) return;
  const SignalsBlockedForUnwind blocked;  // libunwind's own blocks then cost no system call
  unw_addr_space_t as = snapshot_space();
  unw_cursor_t cursor;
  if (as == nullptr || unw_init_remote(&cursor, as, const_cast<StackSnapshot*>(&snapshot)) != 0) return;
  do {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
    out->frames[out->frame_count++] = ip;
  } while (out->frame_count < kMaxFrames && unw_step(&cursor) > 0);
  // Return addresses past the first: as capture_current_stack, the innermost is
  // exact (the pc inside take_stack_snapshot), the caller trims its own frames.
}

}  // namespace racetrap
