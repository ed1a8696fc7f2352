// symbolizer.h — turns code addresses into function, file:line and module+offset
// with elfutils libdw, from a /proc/<pid>/maps snapshot (so it works in the exiting
// process and offline on a raw stream). Not signal-safe: run at exit or in the tool.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace racetrap {

struct SourceFrame {
  uint64_t pc = 0;
  std::string function;  // demangled; empty when unknown
  std::string file;      // empty when there is no debug info
  int line = 0;
  int column = 0;
  std::string module;    // path of the ELF file the pc is in
  uint64_t module_offset = 0;
  bool inlined = false;  // an inlined call inside the frame that follows it
  bool operator==(const SourceFrame&) const = default;
};

// A data object from a module's symbol table (a global or static variable).
struct DataSymbol {
  std::string name;      // demangled
  uint64_t start = 0;    // run-time address of its first byte
  uint64_t size = 0;     // st_size (0 when the symbol table does not say)
  std::string module;    // path of the ELF file
};

class Symbolizer {
 public:
  // `debug_dirs`: more directories to search for separate debug files, before
  // the default ones (the file's own directory and its .debug/ for the
  // .gnu_debuglink name, /usr/lib/debug): DIR/.build-id/xx/rest.debug by build-id,
  // and DIR/<path of the file>/<debuglink name>.
  explicit Symbolizer(const std::string& maps_text, const std::vector<std::string>& debug_dirs = {});
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // One or more frames for one stack entry (innermost inlined first).
  // `return_address`: the pc is a return address, so look up pc - 1.
  std::vector<SourceFrame> symbolize(uint64_t pc, bool return_address);

  // The global/static variable (STT_OBJECT/STT_TLS symbol) covering a data
  // address, looked up in the symbol table of the module mapped there. `found`
  // is false when no module or no such symbol covers it.
  DataSymbol describe_data(uint64_t address, bool* found);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace racetrap
