// vdso_clock.cc — the vDSO's clock_gettime, looked up in the image the kernel maps
// (its ELF dynamic symbol table), and the raw system calls (see vdso_clock.h).
#include "vdso_clock.h"

#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace racetrap {
namespace {

using ClockGettime = int (*)(clockid_t, timespec*);

constexpr uintptr_t kNotLookedUp = 0;
constexpr uintptr_t kNone = 1;  // looked up: the vDSO has no clock_gettime
constinit std::atomic<uintptr_t> g_clock_gettime{kNotLookedUp};

bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// The number of dynamic symbols, from DT_HASH (its chain count) or DT_GNU_HASH
// (one past the highest symbol its buckets and chains reach).
uint32_t symbol_count(const uint32_t* hash, const uint32_t* gnu_hash) {
  if (hash != nullptr) return hash[1];
  if (gnu_hash == nullptr) return 0;
  const uint32_t buckets = gnu_hash[0], first = gnu_hash[1], bloom_words = gnu_hash[2];
  const auto* bucket = reinterpret_cast<const uint32_t*>(reinterpret_cast<const ElfW(Addr)*>(gnu_hash + 4) + bloom_words);
  const uint32_t* chain = bucket + buckets;
  uint32_t last = 0;
  for (uint32_t b = 0; b < buckets; ++b)
    if (bucket[b] > last) last = bucket[b];
  if (last < first) return first;
  while ((chain[last - first] & 1) == 0) ++last;  // the last chain's end marks its last symbol
  return last + 1;
}

uintptr_t look_up_clock_gettime() {
  const uintptr_t base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) return kNone;
  const auto* ehdr = reinterpret_cast<const ElfW(Ehdr)*>(base);
  if (ehdr->e_ident[EI_MAG0] != ELFMAG0 || ehdr->e_ident[EI_MAG1] != ELFMAG1 || ehdr->e_ident[EI_MAG2] != ELFMAG2 ||
      ehdr->e_ident[EI_MAG3] != ELFMAG3 || ehdr->e_ident[EI_CLASS] != ELFCLASS64) {
    return kNone;
  }
  const auto* phdr = reinterpret_cast<const ElfW(Phdr)*>(base + ehdr->e_phoff);
  uintptr_t bias = 0;
  bool loaded = false;
  const ElfW(Dyn)* dynamic = nullptr;
  for (int i = 0; i < ehdr->e_phnum; ++i) {
    if (phdr[i].p_type == PT_LOAD && !loaded) {
      bias = base + phdr[i].p_offset - phdr[i].p_vaddr;
      loaded = true;
    } else if (phdr[i].p_type == PT_DYNAMIC) {
      dynamic = reinterpret_cast<const ElfW(Dyn)*>(phdr[i].p_vaddr);
    }
  }
  if (!loaded || dynamic == nullptr) return kNone;
  dynamic = reinterpret_cast<const ElfW(Dyn)*>(reinterpret_cast<uintptr_t>(dynamic) + bias);
  const ElfW(Sym)* symbols = nullptr;
  const char* strings = nullptr;
  const uint32_t* hash = nullptr;
  const uint32_t* gnu_hash = nullptr;
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symbols = reinterpret_cast<const ElfW(Sym)*>(d->d_un.d_ptr + bias); break;
      case DT_STRTAB: strings = reinterpret_cast<const char*>(d->d_un.d_ptr + bias); break;
      case DT_HASH: hash = reinterpret_cast<const uint32_t*>(d->d_un.d_ptr + bias); break;
      case DT_GNU_HASH: gnu_hash = reinterpret_cast<const uint32_t*>(d->d_un.d_ptr + bias); break;
      default: break;
    }
  }
  if (symbols == nullptr || strings == nullptr) return kNone;
  const uint32_t count = symbol_count(hash, gnu_hash);
  for (uint32_t i = 0; i < count; ++i) {
    const ElfW(Sym)& s = symbols[i];
    if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF || s.st_value == 0) continue;
    if (same_name(strings + s.st_name, "__vdso_clock_gettime")) return s.st_value + bias;
  }
  return kNone;
}

}  // namespace

// signal-safe
int vdso_clock_gettime(clockid_t clock, timespec* ts) {
  uintptr_t fn = g_clock_gettime.load(std::memory_order_relaxed);
  if (fn == kNotLookedUp) {
    fn = look_up_clock_gettime();  // the same answer in every thread that races here
    g_clock_gettime.store(fn, std::memory_order_relaxed);
  }
  if (fn != kNone) return reinterpret_cast<ClockGettime>(fn)(clock, ts);
  return static_cast<int>(syscall(SYS_clock_gettime, clock, ts));
}

// signal-safe
int raw_clock_getres(clockid_t clock, timespec* res) {
  return static_cast<int>(syscall(SYS_clock_getres, clock, res));
}

// signal-safe
int raw_getpid() { return static_cast<int>(syscall(SYS_getpid)); }

// signal-safe
void raw_sched_yield() { syscall(SYS_sched_yield); }

}  // namespace racetrap
