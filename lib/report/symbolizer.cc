// symbolizer.cc — code addresses to function, file:line:column and module+offset
// with elfutils libdwfl/libdw, from a /proc/<pid>/maps snapshot.
//
// The Dwfl is built once from the maps text (each file-backed mapping becomes a
// module at the address it was loaded); ELF files and their debuginfo are opened
// lazily by libdwfl the first time a pc in them is looked up. Inlined calls are
// expanded from the DWARF scope chain the way eu-addr2line -i does it.
#include "symbolizer.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unordered_map>

namespace racetrap {
namespace {

// libdwfl's own default search path for separate debug files: "" is the
// directory of the file itself (its .gnu_debuglink name), ".debug" a subdirectory
// of it, and absolute directories are searched by build-id
// (DIR/.build-id/xx/rest.debug) and by the debuglink name under the file's path.
constexpr const char* kDefaultDebuginfoPath = ":.debug:/usr/lib/debug";

// `extra` directories first (absolute paths; a relative one is made absolute
// against the current directory), then the default.
std::string debuginfo_path(const std::vector<std::string>& extra) {
  std::string path;
  for (const std::string& dir : extra) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(dir, ec);
    path += (ec ? dir : abs.lexically_normal().string()) + ":";
  }
  return path + kDefaultDebuginfoPath;
}

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  // Only Itanium-mangled names; C names like "main" or "f" pass through as-is.
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    char* out = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    if (out != nullptr) {
      std::string result = status == 0 ? std::string(out) : std::string(name);
      std::free(out);
      return result;
    }
  }
  return name;
}

// The path a user can open: `file` made absolute against the compilation
// directory when it is relative (DWARF 5 line tables often hold "../src/x.c"),
// then "/build/../src/x.c" -> "/src/x.c", purely lexically.
std::string full_path(const char* file, const char* comp_dir) {
  if (file == nullptr || file[0] == '\0') return {};
  std::string p(file);
  if (p[0] != '/' && comp_dir != nullptr && comp_dir[0] != '\0') {
    p = std::string(comp_dir) + "/" + p;
  }
  if (p.find("/.") == std::string::npos && p.find("//") == std::string::npos) return p;
  std::string normal = std::filesystem::path(p).lexically_normal().string();
  return normal.empty() ? p : normal;
}

const char* comp_dir_of(Dwarf_Die* cudie) {
  Dwarf_Attribute attr;
  if (cudie == nullptr || dwarf_attr(cudie, DW_AT_comp_dir, &attr) == nullptr) return nullptr;
  return dwarf_formstring(&attr);
}

bool is_function_scope(Dwarf_Die* die) {
  int tag = dwarf_tag(die);
  return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
         tag == DW_TAG_entry_point;
}

// The (demangled) name of a subprogram or inlined_subroutine DIE, following
// DW_AT_abstract_origin / DW_AT_specification to where the name is.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* linkage = nullptr;
  if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != nullptr ||
      dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != nullptr) {
    linkage = dwarf_formstring(&attr);
  }
  if (linkage != nullptr) return demangle(linkage);
  if (dwarf_attr_integrate(die, DW_AT_name, &attr) != nullptr) {
    const char* name = dwarf_formstring(&attr);
    if (name != nullptr) return name;
  }
  return {};
}

int udata_attr(Dwarf_Die* die, unsigned int name, Dwarf_Word* value) {
  Dwarf_Attribute attr;
  if (dwarf_attr(die, name, &attr) == nullptr) return -1;
  return dwarf_formudata(&attr, value);
}

// One compilation unit's address range, for modules without .debug_aranges.
struct CuRange {
  Dwarf_Addr begin = 0, end = 0;  // [begin, end) in the module's DWARF addresses
  Dwarf_Die cu{};                 // the unit (a skeleton for split DWARF)
};

// The address ranges of every compilation unit of `dwarf`, sorted: what
// .debug_aranges would say, read from each unit's DW_AT_low_pc/high_pc or
// DW_AT_ranges. clang emits no .debug_aranges by default, and libdw's lookup by
// address (dwarf_addrdie, dwfl_module_addrdie) relies on it.
std::vector<CuRange> compile_unit_ranges(Dwarf* dwarf) {
  std::vector<CuRange> out;
  Dwarf_CU* cu = nullptr;
  Dwarf_CU* next = nullptr;
  Dwarf_Half version = 0;
  uint8_t unit_type = 0;
  Dwarf_Die cudie, subdie;
  while (dwarf_get_units(dwarf, cu, &next, &version, &unit_type, &cudie, &subdie) == 0) {
    cu = next;
    if (unit_type != DW_UT_compile && unit_type != DW_UT_skeleton) continue;
    Dwarf_Addr base = 0, begin = 0, end = 0;
    ptrdiff_t offset = 0;
    while ((offset = dwarf_ranges(&cudie, offset, &base, &begin, &end)) > 0)
      if (end > begin) out.push_back(CuRange{begin, end, cudie});
  }
  std::sort(out.begin(), out.end(), [](const CuRange& a, const CuRange& b) { return a.begin < b.begin; });
  return out;
}

// For split DWARF (-gsplit-dwarf): the unit in the .dwo file that holds the
// skeleton `cudie`'s functions and inlined calls; else `cudie` itself.
Dwarf_Die split_unit_or_self(Dwarf_Die* cudie, Dwarf_Die* storage) {
  uint8_t unit_type = 0;
  if (cudie->cu != nullptr &&
      dwarf_cu_info(cudie->cu, nullptr, &unit_type, nullptr, storage, nullptr, nullptr, nullptr) == 0 &&
      unit_type == DW_UT_skeleton && storage->cu != nullptr && dwarf_tag(storage) == DW_TAG_compile_unit)
    return *storage;
  return *cudie;
}

}  // namespace

struct Symbolizer::Impl {
  // libdwfl keeps pointers to the callbacks and the path: they live as long as the Dwfl.
  std::string path;
  char* path_ptr = nullptr;
  Dwfl_Callbacks callbacks{};
  Dwfl* dwfl = nullptr;
  std::unordered_map<uint64_t, std::vector<SourceFrame>> cache[2];  // [return_address]
  std::unordered_map<Dwfl_Module*, std::vector<CuRange>> cu_ranges;  // built when first needed

  std::vector<SourceFrame> lookup(uint64_t pc, bool return_address);
  // The compilation unit containing `addr`: libdw's (from .debug_aranges), else
  // from the units' own ranges. *bias: module address - DWARF address.
  Dwarf_Die* find_unit(Dwfl_Module* mod, Dwarf_Addr addr, Dwarf_Addr* bias, Dwarf_Die* storage);
};

Symbolizer::Symbolizer(const std::string& maps_text, const std::vector<std::string>& debug_dirs)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = debuginfo_path(debug_dirs);
  impl_->path_ptr = impl_->path.data();
  impl_->callbacks.find_elf = dwfl_linux_proc_find_elf;
  impl_->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
  impl_->callbacks.section_address = nullptr;
  impl_->callbacks.debuginfo_path = &impl_->path_ptr;
  Dwfl* dwfl = dwfl_begin(&impl_->callbacks);
  if (dwfl == nullptr) return;
  dwfl_report_begin(dwfl);
  if (!maps_text.empty()) {
    // fmemopen wants a non-const buffer; give it a private copy.
    std::string copy = maps_text;
    std::FILE* f = fmemopen(copy.data(), copy.size(), "r");
    if (f != nullptr) {
      dwfl_linux_proc_maps_report(dwfl, f);  // a parse error keeps what was reported
      std::fclose(f);
    }
  }
  if (dwfl_report_end(dwfl, nullptr, nullptr) != 0) {
    dwfl_end(dwfl);
    return;
  }
  impl_->dwfl = dwfl;
}

Symbolizer::~Symbolizer() {
  if (impl_ && impl_->dwfl != nullptr) dwfl_end(impl_->dwfl);
}

std::vector<SourceFrame> Symbolizer::symbolize(uint64_t pc, bool return_address) {
  auto& cache = impl_->cache[return_address ? 1 : 0];
  auto it = cache.find(pc);
  if (it != cache.end()) return it->second;
  std::vector<SourceFrame> frames = impl_->lookup(pc, return_address);
  cache.emplace(pc, frames);
  return frames;
}

namespace {

// The module one of whose loadable segments holds `address`. /proc/PID/maps names
// a module's file-backed pages only, so the zero-filled end of its data segment
// (most of .bss: the pages past the file's last one) is an anonymous mapping
// that dwfl_addrmodule does not attribute to it; the segment's memory size does.
Dwfl_Module* module_with_segment_at(Dwfl* dwfl, uint64_t address) {
  struct Search {
    uint64_t address;
    Dwfl_Module* found;
  } search{address, nullptr};
  auto visit = [](Dwfl_Module* mod, void**, const char*, Dwarf_Addr, void* arg) -> int {
    auto* s = static_cast<Search*>(arg);
    GElf_Addr bias = 0;
    Elf* elf = dwfl_module_getelf(mod, &bias);
    size_t count = 0;
    if (elf == nullptr || elf_getphdrnum(elf, &count) != 0) return DWARF_CB_OK;
    for (size_t i = 0; i < count; ++i) {
      GElf_Phdr header;
      if (gelf_getphdr(elf, static_cast<int>(i), &header) == nullptr || header.p_type != PT_LOAD) continue;
      const uint64_t start = header.p_vaddr + bias;
      if (s->address >= start && s->address - start < header.p_memsz) {
        s->found = mod;
        return DWARF_CB_ABORT;
      }
    }
    return DWARF_CB_OK;
  };
  dwfl_getmodules(dwfl, visit, &search, 0);
  return search.found;
}

}  // namespace

DataSymbol Symbolizer::describe_data(uint64_t address, bool* found) {
  *found = false;
  DataSymbol out;
  Dwfl_Module* mod = impl_->dwfl != nullptr ? dwfl_addrmodule(impl_->dwfl, address) : nullptr;
  if (mod == nullptr && impl_->dwfl != nullptr) mod = module_with_segment_at(impl_->dwfl, address);
  if (mod == nullptr) return out;
  const char* modname = dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr,
                                         nullptr, nullptr);
  if (modname != nullptr) out.module = modname;
  GElf_Off offset = 0;
  GElf_Sym sym;
  const char* name = dwfl_module_addrinfo(mod, address, &offset, &sym, nullptr, nullptr, nullptr);
  if (name == nullptr) return out;
  int type = GELF_ST_TYPE(sym.st_info);
  if (type != STT_OBJECT && type != STT_TLS && type != STT_COMMON) return out;
  if (sym.st_size > 0 && offset >= sym.st_size) return out;  // past its end: padding
  out.name = demangle(name);
  out.start = address - offset;
  out.size = sym.st_size;
  *found = true;
  return out;
}

Dwarf_Die* Symbolizer::Impl::find_unit(Dwfl_Module* mod, Dwarf_Addr addr, Dwarf_Addr* bias, Dwarf_Die* storage) {
  if (Dwarf_Die* cudie = dwfl_module_addrdie(mod, addr, bias)) return cudie;
  Dwarf* dwarf = dwfl_module_getdwarf(mod, bias);
  if (dwarf == nullptr) return nullptr;
  auto [it, inserted] = cu_ranges.try_emplace(mod);
  if (inserted) it->second = compile_unit_ranges(dwarf);
  const std::vector<CuRange>& ranges = it->second;
  const Dwarf_Addr at = addr - *bias;
  auto after = std::upper_bound(ranges.begin(), ranges.end(), at,
                                [](Dwarf_Addr a, const CuRange& r) { return a < r.begin; });
  // Ranges of different units do not overlap; scan back over a few in case they do.
  for (int back = 0; after != ranges.begin() && back < 8; ++back) {
    --after;
    if (at >= after->begin && at < after->end) {
      *storage = after->cu;
      return storage;
    }
  }
  return nullptr;
}

std::vector<SourceFrame> Symbolizer::Impl::lookup(uint64_t pc, bool return_address) {
  // A return address points after the call; pc - 1 is inside the call instruction.
  const uint64_t addr = return_address && pc > 0 ? pc - 1 : pc;

  SourceFrame base;
  base.pc = pc;
  Dwfl_Module* mod = dwfl != nullptr ? dwfl_addrmodule(dwfl, addr) : nullptr;
  if (mod == nullptr) return {base};

  Dwarf_Addr start = 0;
  const char* name = dwfl_module_info(mod, nullptr, &start, nullptr, nullptr, nullptr,
                                      nullptr, nullptr);
  if (name != nullptr) base.module = name;
  base.module_offset = pc - start;

  // Outermost function name from the symbol table (always there, even stripped
  // of DWARF, as long as .symtab or .dynsym has it).
  GElf_Off sym_offset = 0;
  GElf_Sym sym;
  const char* symname = dwfl_module_addrinfo(mod, addr, &sym_offset, &sym, nullptr,
                                             nullptr, nullptr);
  // Versioned dynamic symbols read "name@@VERSION": the name is what users know.
  std::string plain = symname != nullptr ? std::string(symname) : std::string();
  if (size_t at = plain.find('@'); at != std::string::npos && at > 0) plain.resize(at);
  std::string outer_function = demangle(symname != nullptr ? plain.c_str() : nullptr);

  Dwarf_Addr bias = 0;
  Dwarf_Die unit_storage;
  Dwarf_Die* unit = find_unit(mod, addr, &bias, &unit_storage);

  // Innermost location from the line table.
  SourceFrame inner = base;
  if (Dwfl_Line* line = dwfl_module_getsrc(mod, addr)) {
    int lineno = 0;
    int column = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &lineno, &column, nullptr, nullptr);
    inner.file = full_path(file, dwfl_line_comp_dir(line));
    inner.line = lineno;
    inner.column = column;
  } else if (Dwarf_Line* line = unit != nullptr ? dwarf_getsrc_die(unit, addr - bias) : nullptr) {
    int lineno = 0;
    int column = 0;
    dwarf_lineno(line, &lineno);
    dwarf_linecol(line, &column);
    inner.file = full_path(dwarf_linesrc(line, nullptr, nullptr), comp_dir_of(unit));
    inner.line = lineno;
    inner.column = column;
  }

  // Inlined calls: the physical scope chain of the innermost scope at addr (in
  // the split unit, for split DWARF: the skeleton holds no functions).
  std::vector<SourceFrame> frames;
  Dwarf_Die split_storage;
  Dwarf_Die scope_unit;
  Dwarf_Die* cudie = nullptr;
  if (unit != nullptr) {
    scope_unit = split_unit_or_self(unit, &split_storage);
    cudie = &scope_unit;
  }
  if (cudie != nullptr) {
    Dwarf_Die* scopes = nullptr;
    int nscopes = dwarf_getscopes(cudie, addr - bias, &scopes);
    Dwarf_Die innermost;
    bool have_innermost = false;
    if (nscopes > 0) {
      innermost = scopes[0];
      have_innermost = true;
    }
    std::free(scopes);
    scopes = nullptr;
    // dwarf_getscopes continues into the abstract origin's scopes after an inlined
    // instance; dwarf_getscopes_die gives the chain of DIEs that contain it.
    nscopes = have_innermost ? dwarf_getscopes_die(&innermost, &scopes) : 0;
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    if (nscopes > 0 && dwarf_getsrcfiles(cudie, &files, &nfiles) != 0) files = nullptr;

    SourceFrame current = inner;
    for (int i = 0; i < nscopes; ++i) {
      Dwarf_Die* die = &scopes[i];
      if (!is_function_scope(die)) continue;
      if (dwarf_tag(die) != DW_TAG_inlined_subroutine) {
        // The concrete function: the outermost frame for this pc.
        std::string fname = die_function_name(die);
        current.function = outer_function.empty() ? fname : outer_function;
        current.inlined = false;
        frames.push_back(current);
        break;
      }
      current.function = die_function_name(die);
      current.inlined = true;
      frames.push_back(current);
      // The next outer frame is at the call site of this inlined instance.
      SourceFrame caller = base;
      Dwarf_Word value = 0;
      if (files != nullptr && udata_attr(die, DW_AT_call_file, &value) == 0 && value < nfiles) {
        caller.file = full_path(dwarf_filesrc(files, value, nullptr, nullptr), comp_dir_of(cudie));
      }
      if (udata_attr(die, DW_AT_call_line, &value) == 0) caller.line = static_cast<int>(value);
      if (udata_attr(die, DW_AT_call_column, &value) == 0) caller.column = static_cast<int>(value);
      current = caller;
    }
    std::free(scopes);
    // Ran out of scopes inside inlined instances without a subprogram: still end
    // with the frame of the call site, named from the symbol table.
    if (!frames.empty() && frames.back().inlined) {
      current.function = outer_function;
      current.inlined = false;
      frames.push_back(current);
    }
  }
  if (frames.empty()) {
    inner.function = outer_function;
    frames.push_back(inner);
  }
  return frames;
}

}  // namespace racetrap
