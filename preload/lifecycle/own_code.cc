// own_code.cc — see own_code.h.
#include "own_code.h"

#include <link.h>
#include <libunwind.h>

#include <algorithm>

namespace racetrap {

// The executable segments of libracetrap.so and libunwind, found once at load.
CodeRange g_own_code[kMaxOwnCodeRanges];
int g_own_code_count = 0;
CodeRange g_own_code_span;

namespace {

int collect_ranges(dl_phdr_info* info, size_t, void* data) {
  auto* wanted = static_cast<const uintptr_t*>(data);
  bool mine = false;
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < info->dlpi_phnum; ++i) {
      const ElfW(Phdr)& ph = info->dlpi_phdr[i];
      if (ph.p_type != PT_LOAD) continue;
      uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
      if (wanted[w] >= begin && wanted[w] < begin + ph.p_memsz) mine = true;
    }
  }
  if (!mine) return 0;
  for (int i = 0; i < info->dlpi_phnum && g_own_code_count < kMaxOwnCodeRanges; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_X) == 0) continue;
    uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    g_own_code[g_own_code_count++] = CodeRange{begin, begin + ph.p_memsz};
  }
  return 0;
}

__attribute__((constructor)) void find_own_code() {
  uintptr_t wanted[2] = {reinterpret_cast<uintptr_t>(&find_own_code), reinterpret_cast<uintptr_t>(&unw_backtrace)};
  dl_iterate_phdr(collect_ranges, wanted);
  CodeRange span{UINTPTR_MAX, 0};
  for (int i = 0; i < g_own_code_count; ++i) {
    span.begin = std::min(span.begin, g_own_code[i].begin);
    span.end = std::max(span.end, g_own_code[i].end);
  }
  if (g_own_code_count > 0) g_own_code_span = span;
}

}  // namespace

}  // namespace racetrap
