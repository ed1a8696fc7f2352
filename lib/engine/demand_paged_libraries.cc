// demand_paged_libraries.cc — see demand_paged_libraries.h.
#include "demand_paged_libraries.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "perf_events.h"

namespace racetrap {
namespace {

// Newer than the kernel headers this builds against (Linux 6.7).
constexpr uint64_t kFeatureWpAsync = 1ull << 15;  // UFFD_FEATURE_WP_ASYNC
#ifndef UFFD_USER_MODE_ONLY
constexpr int kUserModeOnly = 1;
#else
constexpr int kUserModeOnly = UFFD_USER_MODE_ONLY;
#endif

constexpr uintptr_t kPage = 4096;

// /proc/self/pagemap entry bits.
constexpr uint64_t kPagePresent = 1ull << 63;
constexpr uint64_t kPageSwapped = 1ull << 62;
constexpr uint64_t kPageFileOrShared = 1ull << 61;

// The userfaultfd the registration lives on (-1: none).
int uffd_holder = -1;

// The read-only ranges of racetrap's own libraries that were registered, for
// drop_own_pages_again. Written once, by page_own_libraries_on_demand.
constexpr size_t kMaxOwnRanges = 32;
std::pair<uintptr_t, uintptr_t> own_ranges[kMaxOwnRanges];
size_t own_range_count = 0;

struct LoadedObject {
  uintptr_t base = 0;
  const ElfW(Phdr)* phdr = nullptr;
  int phnum = 0;
  std::string_view soname;
  std::vector<std::string_view> needed;
  bool own = false;      // racetrap's library or one only it needs
  bool program = false;  // the program's: its executable, what that needs, anything else loaded
  bool text_relocations = false;
  bool special = false;  // the vDSO: the kernel's, not a file mapping
};

void read_dynamic(LoadedObject& object) {
  for (int i = 0; i < object.phnum; ++i) {
    if (object.phdr[i].p_type != PT_DYNAMIC) continue;
    const auto* dyn = reinterpret_cast<const ElfW(Dyn)*>(object.base + object.phdr[i].p_vaddr);
    uintptr_t strtab = 0;
    for (const ElfW(Dyn)* d = dyn; d->d_tag != DT_NULL; ++d) {
      if (d->d_tag == DT_STRTAB) strtab = d->d_un.d_ptr;
      if (d->d_tag == DT_TEXTREL) object.text_relocations = true;
      if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL) != 0) object.text_relocations = true;
    }
    if (strtab == 0) return;
    // glibc relocates the dynamic section's addresses in place, except where that
    // section is read-only (the vDSO's): then they are still offsets.
    if (strtab < object.base) strtab += object.base;
    const char* strings = reinterpret_cast<const char*>(strtab);
    for (const ElfW(Dyn)* d = dyn; d->d_tag != DT_NULL; ++d) {
      if (d->d_tag == DT_SONAME) object.soname = strings + d->d_un.d_val;
      if (d->d_tag == DT_NEEDED) object.needed.emplace_back(strings + d->d_un.d_val);
    }
    return;
  }
}

struct Collect {
  std::vector<LoadedObject>* objects;
  uintptr_t own_address;
  int own_index = -1;
};

int collect_object(dl_phdr_info* info, size_t, void* data) {
  auto* c = static_cast<Collect*>(data);
  LoadedObject object;
  object.base = info->dlpi_addr;
  object.phdr = info->dlpi_phdr;
  object.phnum = info->dlpi_phnum;
  // The executable's name is empty and every loaded file's a path.
  object.special = info->dlpi_name != nullptr && info->dlpi_name[0] != '\0' && std::strchr(info->dlpi_name, '/') == nullptr;
  read_dynamic(object);
  for (int i = 0; i < object.phnum; ++i) {
    const ElfW(Phdr)& ph = object.phdr[i];
    if (ph.p_type == PT_LOAD && c->own_address >= object.base + ph.p_vaddr &&
        c->own_address < object.base + ph.p_vaddr + ph.p_memsz)
      c->own_index = static_cast<int>(c->objects->size());
  }
  c->objects->push_back(std::move(object));
  return 0;
}

// Marks, transitively through DT_NEEDED, every object `from` needs with `mark`.
void mark_needed(std::vector<LoadedObject>& objects, bool LoadedObject::*mark) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const LoadedObject& from : objects) {
      if (!(from.*mark)) continue;
      for (std::string_view name : from.needed)
        for (LoadedObject& to : objects)
          if (!(to.*mark) && to.soname == name) {
            to.*mark = true;
            changed = true;
          }
    }
  }
}

// The whole pages of `object`'s read-only segments that share no page with a
// writable one (whose relocated data is anonymous memory), as [start, end) pairs,
// adjacent segments as one range (one registration: each costs a system call that
// takes the process's memory map lock).
std::vector<std::pair<uintptr_t, uintptr_t>> read_only_ranges(const LoadedObject& object) {
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  for (int i = 0; i < object.phnum; ++i) {
    const ElfW(Phdr)& ph = object.phdr[i];
    if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) != 0 || ph.p_memsz == 0) continue;
    uintptr_t start = (object.base + ph.p_vaddr) & ~(kPage - 1);
    uintptr_t end = (object.base + ph.p_vaddr + ph.p_memsz + kPage - 1) & ~(kPage - 1);
    for (int j = 0; j < object.phnum; ++j) {
      const ElfW(Phdr)& w = object.phdr[j];
      if (w.p_type != PT_LOAD || (w.p_flags & PF_W) == 0) continue;
      const uintptr_t w_start = (object.base + w.p_vaddr) & ~(kPage - 1);
      const uintptr_t w_end = (object.base + w.p_vaddr + w.p_memsz + kPage - 1) & ~(kPage - 1);
      if (w_start < end && w_end > start) {
        if (w_start <= start) start = w_end;
        if (w_end >= end) end = w_start;
      }
    }
    if (start < end) ranges.emplace_back(start, end);
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uintptr_t, uintptr_t>> merged;
  for (auto range : ranges) {
    if (!merged.empty() && merged.back().second == range.first)
      merged.back().second = range.second;
    else
      merged.push_back(range);
  }
  return merged;
}

// The unwind tables of `object` (.eh_frame_hdr, .eh_frame and what follows them in
// their read-only segment: .gcc_except_table) as whole pages, or an empty range.
std::pair<uintptr_t, uintptr_t> unwind_table_range(const LoadedObject& object) {
  uintptr_t tables = 0;
  for (int i = 0; i < object.phnum; ++i)
    if (object.phdr[i].p_type == PT_GNU_EH_FRAME) tables = object.base + object.phdr[i].p_vaddr;
  if (tables == 0) return {0, 0};
  for (auto [start, end] : read_only_ranges(object))
    if (tables >= start && tables < end) return {tables & ~(kPage - 1), end};
  return {0, 0};
}

// The pagemap entries of [start, end) (empty when they cannot be read).
std::vector<uint64_t> read_pagemap(int pagemap, uintptr_t start, uintptr_t end) {
  std::vector<uint64_t> entries((end - start) / kPage);
  const ssize_t want = static_cast<ssize_t>(entries.size() * sizeof(uint64_t));
  if (pread(pagemap, entries.data(), static_cast<size_t>(want), static_cast<off_t>(start / kPage * 8)) != want)
    entries.clear();
  return entries;
}

// Drops the pages of [start, end) that are clean page-cache pages or not mapped,
// and, given `before` (entries read earlier), were not resident then; a page
// written since it was mapped (anonymous now) stays. The count dropped.
long drop_clean_pages(int pagemap, uintptr_t start, uintptr_t end, const std::vector<uint64_t>* before = nullptr) {
  const std::vector<uint64_t> entries = read_pagemap(pagemap, start, end);
  const size_t pages = entries.size();
  if (pages == 0 || (before != nullptr && before->size() != pages)) return 0;
  long dropped = 0;
  size_t run = 0;  // first page of the current run of droppable pages
  for (size_t i = 0; i <= pages; ++i) {
    const bool droppable = i < pages && (entries[i] & kPageSwapped) == 0 &&
                           ((entries[i] & kPagePresent) == 0 || (entries[i] & kPageFileOrShared) != 0) &&
                           (before == nullptr || ((*before)[i] & kPagePresent) == 0);
    if (droppable) continue;
    if (i > run) {
      long present = 0;
      for (size_t k = run; k < i; ++k) present += (entries[k] & kPagePresent) != 0 ? 1 : 0;
      if (madvise(reinterpret_cast<void*>(start + run * kPage), (i - run) * kPage, MADV_DONTNEED) == 0)
        dropped += present;
    }
    run = i + 1;
  }
  return dropped;
}

// Whether a seccomp filter is on: one may kill the process at a system call it
// does not list (systemd's SystemCallFilter), and userfaultfd is rarely listed.
bool under_seccomp_filter() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char text[4096];
  size_t used = 0;
  for (ssize_t got; used < sizeof text - 1 && (got = read(fd, text + used, sizeof text - 1 - used)) > 0;)
    used += static_cast<size_t>(got);
  close(fd);
  text[used] = '\0';
  const char* field = std::strstr(text, "\nSeccomp:");
  if (field == nullptr) return false;  // a kernel without seccomp
  field += std::strlen("\nSeccomp:");
  while (*field == ' ' || *field == '\t') ++field;
  return *field != '0';
}

int open_write_protect_uffd(int* error) {
  int fd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | kUserModeOnly));
  if (fd < 0) {
    *error = errno;
    return -1;
  }
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kFeatureWpAsync;
  if (ioctl(fd, UFFDIO_API, &api) != 0) {
    *error = errno;
    close(fd);
    return -1;
  }
  const int floor = perf_fd_floor();
  if (fd < floor) {
    const int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
    const int err = errno;
    close(fd);
    if (high < 0) {
      *error = err;
      return -1;
    }
    fd = high;
  }
  return fd;
}

// The loaded objects, marked. Own: racetrap's library (the object containing
// `own_address`) and what it needs. The program's: its executable and every other
// object not needed by racetrap's library (what it dlopened), and all they need.
// Empty when `own_address` is in no object.
std::vector<LoadedObject> loaded_objects(const void* own_address) {
  std::vector<LoadedObject> objects;
  Collect collect{&objects, reinterpret_cast<uintptr_t>(own_address)};
  dl_iterate_phdr(collect_object, &collect);
  if (collect.own_index < 0) return {};
  objects[static_cast<size_t>(collect.own_index)].own = true;
  mark_needed(objects, &LoadedObject::own);
  for (size_t i = 0; i < objects.size(); ++i)
    if (!objects[i].own) objects[i].program = true;
  mark_needed(objects, &LoadedObject::program);
  return objects;
}

}  // namespace

void ProgramPages::note(const void* own_address) {
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges;
  for (const LoadedObject& object : loaded_objects(own_address)) {
    if (!object.program || object.special) continue;
    for (auto range : read_only_ranges(object)) ranges.push_back(range);
  }
  note_ranges(ranges);
}

void ProgramPages::note_ranges(const std::vector<std::pair<uintptr_t, uintptr_t>>& ranges) {
  ranges_.clear();
  before_.clear();
  const int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) return;
  for (auto range : ranges) {
    std::vector<uint64_t> entries = read_pagemap(pagemap, range.first, range.second);
    if (entries.empty()) continue;
    ranges_.push_back(range);
    before_.push_back(std::move(entries));
  }
  close(pagemap);
}

long ProgramPages::drop_new() {
  const int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) return 0;
  long dropped = 0;
  for (size_t i = 0; i < ranges_.size(); ++i)
    dropped += drop_clean_pages(pagemap, ranges_[i].first, ranges_[i].second, &before_[i]);
  close(pagemap);
  ranges_.clear();
  before_.clear();
  return dropped;
}

DemandPagingOutcome page_own_libraries_on_demand(const void* own_address) {
  DemandPagingOutcome outcome;
  if (uffd_holder >= 0) return outcome;
  if (under_seccomp_filter()) {
    outcome.error = EPERM;
    return outcome;
  }
  // Only what is own and not the program's is registered whole.
  std::vector<LoadedObject> objects = loaded_objects(own_address);
  if (objects.empty()) return outcome;

  int error = 0;
  const int fd = open_write_protect_uffd(&error);
  if (fd < 0) {
    outcome.error = error;
    return outcome;
  }
  const int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  for (const LoadedObject& object : objects) {
    if (object.special) continue;
    if (object.program) {
      // The program's objects: only their unwind tables, which racetrap's stack
      // captures read and the program reads only when it throws or takes a
      // backtrace; what is resident now stays.
      const auto [start, end] = unwind_table_range(object);
      if (start >= end) continue;
      uffdio_register reg{};
      reg.range.start = start;
      reg.range.len = end - start;
      reg.mode = UFFDIO_REGISTER_MODE_WP;
      if (ioctl(fd, UFFDIO_REGISTER, &reg) == 0)
        ++outcome.unwind_tables;
      else if (outcome.error == 0)
        outcome.error = errno;
      continue;
    }
    if (!object.own || object.text_relocations) continue;
    bool any = false;
    for (auto [start, end] : read_only_ranges(object)) {
      uffdio_register reg{};
      reg.range.start = start;
      reg.range.len = end - start;
      reg.mode = UFFDIO_REGISTER_MODE_WP;
      if (ioctl(fd, UFFDIO_REGISTER, &reg) != 0) {
        if (outcome.error == 0) outcome.error = errno;
        continue;
      }
      any = true;
      if (own_range_count < kMaxOwnRanges) own_ranges[own_range_count++] = {start, end};
      if (pagemap >= 0) outcome.pages_dropped += drop_clean_pages(pagemap, start, end);
    }
    if (any) ++outcome.libraries;
  }
  if (pagemap >= 0) close(pagemap);
  if (outcome.libraries == 0 && outcome.unwind_tables == 0) {
    close(fd);
    return outcome;
  }
  outcome.registered = true;
  uffd_holder = fd;
  owned_fds::own(fd, &uffd_holder);
  return outcome;
}

long drop_own_pages_again() {
  if (uffd_holder < 0 || own_range_count == 0) return 0;
  const int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) return 0;
  long dropped = 0;
  for (size_t i = 0; i < own_range_count; ++i)
    dropped += drop_clean_pages(pagemap, own_ranges[i].first, own_ranges[i].second);
  close(pagemap);
  return dropped;
}

}  // namespace racetrap
